package dev.spillway.core.keys;

/**
 * Which provider wrapped a data key. The numeric id is written into every key record
 * (docs/ENVELOPE.md), so ids are never reused or renumbered.
 */
public enum KeyProviderId {
  /** Tink HPKE (DHKEM_X25519_HKDF_SHA256 / HKDF_SHA256 / AES_256_GCM) with a local keyset pair. */
  LOCAL_HPKE(1, "local"),
  /** AWS KMS symmetric key: GenerateDataKey on write, Decrypt on read. */
  AWS_KMS(2, "aws-kms"),
  /** AWS KMS RSA key: local RSAES_OAEP_SHA_256 wrap with the public key, Decrypt on read. */
  AWS_KMS_RSA(3, "aws-kms-rsa");

  private final int wireId;
  private final String configName;

  KeyProviderId(int wireId, String configName) {
    this.wireId = wireId;
    this.configName = configName;
  }

  public int wireId() {
    return wireId;
  }

  /** The name used in configuration files ({@code keys.provider}). */
  public String configName() {
    return configName;
  }

  /** Returns the provider for a wire id, or null when the id is unknown to this version. */
  public static KeyProviderId fromWireId(int id) {
    for (KeyProviderId p : values()) {
      if (p.wireId == id) {
        return p;
      }
    }
    return null;
  }

  /** Returns the provider for a configuration name. */
  public static KeyProviderId fromConfigName(String name) {
    for (KeyProviderId p : values()) {
      if (p.configName.equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown key provider '" + name + "' (expected local, aws-kms or aws-kms-rsa)");
  }
}
