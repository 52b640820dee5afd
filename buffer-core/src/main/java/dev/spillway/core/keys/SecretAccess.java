package dev.spillway.core.keys;

/**
 * A token that must be passed to read secret key bytes, so every such read is easy to find in an
 * audit ({@code grep SecretAccess.insecure}). Modelled on Tink's {@code InsecureSecretKeyAccess}.
 */
public final class SecretAccess {
  private static final SecretAccess INSTANCE = new SecretAccess();

  private SecretAccess() {}

  /** The only way to obtain the token. Call sites are the places that touch plaintext keys. */
  public static SecretAccess insecure() {
    return INSTANCE;
  }
}
