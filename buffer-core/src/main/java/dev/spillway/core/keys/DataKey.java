package dev.spillway.core.keys;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * A plaintext AES-256 data key (DEK). It cannot be printed or compared by accident: {@code
 * toString} is redacted, {@code equals} is identity, and the bytes are only handed out as a copy
 * against a {@link SecretAccess} token. {@link #destroy()} zeroes the bytes this object holds;
 * copies made by callers (and by the JCE inside a cipher) are theirs to manage.
 *
 * <p>Thread-safe: reads and destroy are guarded by the key's own lock.
 */
public final class DataKey implements AutoCloseable {
  /** AES-256. */
  public static final int LENGTH_BYTES = 32;

  private final Object lock = new Object(); // guards bytes
  private byte[] bytes;

  private DataKey(byte[] bytes) {
    this.bytes = bytes;
  }

  /**
   * Takes ownership of {@code bytes} (they are not copied, and are zeroed by {@link #destroy()}).
   *
   * @throws IllegalArgumentException if the length is not {@value #LENGTH_BYTES}
   */
  public static DataKey adopt(byte[] bytes, SecretAccess access) {
    Objects.requireNonNull(access, "access");
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length != LENGTH_BYTES) {
      throw new IllegalArgumentException(
          "a data key is " + LENGTH_BYTES + " bytes, got " + bytes.length);
    }
    return new DataKey(bytes);
  }

  /** A copy of the key bytes. The caller should zero the copy when done. */
  public byte[] bytes(SecretAccess access) {
    Objects.requireNonNull(access, "access");
    synchronized (lock) {
      if (bytes == null) {
        throw new IllegalStateException("data key was destroyed");
      }
      return bytes.clone();
    }
  }

  /** Constant-time comparison, for tests and key checks. */
  public boolean sameKeyAs(DataKey other, SecretAccess access) {
    byte[] a = bytes(access);
    byte[] b = other.bytes(access);
    try {
      return MessageDigest.isEqual(a, b);
    } finally {
      Arrays.fill(a, (byte) 0);
      Arrays.fill(b, (byte) 0);
    }
  }

  /** Zeroes the key bytes. Safe to call more than once. */
  public void destroy() {
    synchronized (lock) {
      if (bytes != null) {
        Arrays.fill(bytes, (byte) 0);
        bytes = null;
      }
    }
  }

  public boolean isDestroyed() {
    synchronized (lock) {
      return bytes == null;
    }
  }

  @Override
  public void close() {
    destroy();
  }

  @Override
  public String toString() {
    return "DataKey[redacted]";
  }
}
