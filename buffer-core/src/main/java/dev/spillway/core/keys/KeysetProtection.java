package dev.spillway.core.keys;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import java.security.GeneralSecurityException;
import java.security.spec.KeySpec;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * How the local reader keyset ({@code reader.json}) is protected at rest. The file is 0600 either
 * way; protection adds a second lock for backups and copies:
 *
 * <ul>
 *   <li>{@link #none()}: the private keyset in Tink's JSON, readable by its owner.
 *   <li>{@link #passphrase(char[])}: encrypted with AES-256-GCM under a key derived with
 *       PBKDF2-HMAC-SHA256 ({@value #PBKDF2_ITERATIONS} iterations, OWASP's 2023 figure, random
 *       16-byte salt stored in the file).
 *   <li>{@link #aead(String, Aead)}: encrypted by any Tink {@link Aead}, for instance one backed by
 *       a KMS key (the keyset then opens only where that key's Decrypt is allowed).
 * </ul>
 */
public final class KeysetProtection {
  /** PBKDF2 iteration count for passphrase protection. */
  public static final int PBKDF2_ITERATIONS = 600_000;

  private final String kind;
  private final char[] passphrase;
  private final Aead aead;

  private KeysetProtection(String kind, char[] passphrase, Aead aead) {
    this.kind = kind;
    this.passphrase = passphrase;
    this.aead = aead;
  }

  public static KeysetProtection none() {
    return new KeysetProtection("none", null, null);
  }

  /** Passphrase protection. The array is copied; the caller may wipe its own. */
  public static KeysetProtection passphrase(char[] passphrase) {
    Objects.requireNonNull(passphrase, "passphrase");
    if (passphrase.length < 12) {
      throw new IllegalArgumentException("a keyset passphrase must be at least 12 characters");
    }
    return new KeysetProtection("passphrase-pbkdf2-sha256", passphrase.clone(), null);
  }

  /**
   * Protection by an {@link Aead}, named for the file (for example {@code aws-kms:<key arn>}) so
   * a reader given the wrong kind of protection gets a clear error.
   */
  public static KeysetProtection aead(String name, Aead aead) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(aead, "aead");
    return new KeysetProtection("aead:" + name, null, aead);
  }

  String kind() {
    return kind;
  }

  boolean isNone() {
    return passphrase == null && aead == null;
  }

  /** The keyset-encryption AEAD; for a passphrase, derived with {@code salt}. */
  Aead keysetAead(byte[] salt) throws GeneralSecurityException {
    if (aead != null) {
      return aead;
    }
    if (passphrase == null) {
      throw new IllegalStateException("no protection");
    }
    KeySpec spec = new PBEKeySpec(passphrase, salt, PBKDF2_ITERATIONS, 256);
    byte[] key = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    try {
      return new AesGcmJce(key);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  boolean needsSalt() {
    return passphrase != null;
  }

  @Override
  public String toString() {
    return "KeysetProtection[" + kind + "]";
  }
}
