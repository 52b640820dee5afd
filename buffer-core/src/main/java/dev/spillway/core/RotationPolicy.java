package dev.spillway.core;

import java.time.Duration;
import java.util.Objects;

/**
 * When a writer stops using a data key and asks its provider for a new one: after {@code maxAge},
 * {@code maxRecords} or {@code maxBytes} (plaintext bytes sealed), whichever comes first.
 *
 * <p>Defaults (see docs/ENVELOPE.md): one hour, 2^20 records, 2^36 bytes. AES-GCM with random
 * 96-bit nonces must stay far below 2^32 messages per key (NIST SP 800-38D, and the AWS
 * Encryption SDK's caching ceiling); 2^20 records keep the nonce-collision probability near
 * 2^-57. The age bound also limits how much one leaked data key exposes and makes
 * crypto-shredding of drained data fine-grained. With a KMS, this is also the number of KMS calls:
 * one per epoch.
 *
 * <p>A writer tries to rotate early, at three quarters of any limit; if the provider is down it
 * keeps the current key until the limit itself is reached, and only then refuses to seal.
 */
public record RotationPolicy(Duration maxAge, long maxRecords, long maxBytes) {
  public static final Duration DEFAULT_MAX_AGE = Duration.ofHours(1);
  public static final long DEFAULT_MAX_RECORDS = 1L << 20;
  public static final long DEFAULT_MAX_BYTES = 1L << 36;
  /** Hard ceiling on records per key: 2^32, the bound for random 96-bit GCM nonces. */
  public static final long CEILING_RECORDS = 1L << 32;

  public RotationPolicy {
    Objects.requireNonNull(maxAge, "maxAge");
    if (maxAge.isNegative() || maxAge.isZero()) {
      throw new IllegalArgumentException("maxAge must be positive, got " + maxAge);
    }
    if (maxRecords < 1 || maxRecords > CEILING_RECORDS) {
      throw new IllegalArgumentException(
          "maxRecords must be in 1.." + CEILING_RECORDS + ", got " + maxRecords);
    }
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
    }
  }

  public static RotationPolicy defaults() {
    return new RotationPolicy(DEFAULT_MAX_AGE, DEFAULT_MAX_RECORDS, DEFAULT_MAX_BYTES);
  }
}
