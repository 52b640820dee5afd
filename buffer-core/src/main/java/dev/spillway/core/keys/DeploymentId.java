package dev.spillway.core.keys;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The name of one Spillway deployment (one spill directory and the processes that write and drain
 * it), bound into every data key's {@link KeyContext}, every key record's signature and every
 * sealed batch's associated data. Two deployments that share a key pair (a Kubernetes DaemonSet
 * mounting one Secret on every node) but carry different names refuse each other's segments.
 *
 * <p>It comes from configuration, never from the spill directory, so whoever can write the spill
 * cannot change it. {@link #UNNAMED} (the default) binds the empty name: deployments that share
 * keys and leave it unset cannot tell their records apart. docs/THREAT-MODEL.md says when to set it.
 *
 * <p>Immutable; {@code equals} compares the name.
 */
public final class DeploymentId {
  /** Longest name, in UTF-8 bytes. */
  public static final int MAX_BYTES = 128;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/@-]*");

  /** No name: what a deployment that configures none binds. */
  public static final DeploymentId UNNAMED = new DeploymentId("");

  private final String name;

  private DeploymentId(String name) {
    this.name = name;
  }

  /**
   * A named deployment, for example a Kubernetes node name or a host's fully qualified name.
   *
   * @throws IllegalArgumentException unless {@code name} is 1..{@value #MAX_BYTES} characters of
   *     letters, digits and {@code . _ : / @ -}, starting with a letter or digit
   */
  public static DeploymentId of(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.length() > MAX_BYTES || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "deployment id '" + name + "' must be 1.." + MAX_BYTES
              + " letters, digits or . _ : / @ -, starting with a letter or digit");
    }
    return new DeploymentId(name);
  }

  /** The name, empty for {@link #UNNAMED}. */
  public String name() {
    return name;
  }

  public boolean isNamed() {
    return !name.isEmpty();
  }

  /** The UTF-8 bytes bound into contexts and associated data (ASCII by construction). */
  public byte[] toBytes() {
    return name.getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DeploymentId d && d.name.equals(name);
  }

  @Override
  public int hashCode() {
    return name.hashCode();
  }

  @Override
  public String toString() {
    return isNamed() ? name : "(unnamed)";
  }
}
