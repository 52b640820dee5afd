package dev.spillway.core;

import java.util.Objects;

/**
 * What became of an offered batch.
 *
 * @param outcome where the batch went
 * @param reason for {@link Outcome#REFUSED}, why (never contains payload bytes); empty otherwise
 */
public record OfferResult(Outcome outcome, String reason) {
  /** Where an offered batch went. */
  public enum Outcome {
    /** Held in memory, unencrypted, never on disk (memory-first mode, under the limit). */
    IN_MEMORY,
    /** Sealed and appended to the spill on disk. */
    SPILLED,
    /**
     * Not accepted; nothing of it was kept. Always retryable: the receivers turn it into OTLP
     * back-pressure (HTTP 429/503 with Retry-After, gRPC UNAVAILABLE with RetryInfo).
     */
    REFUSED
  }

  static final OfferResult IN_MEMORY = new OfferResult(Outcome.IN_MEMORY, "");
  static final OfferResult SPILLED = new OfferResult(Outcome.SPILLED, "");

  public OfferResult {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(reason, "reason");
  }

  static OfferResult refused(String reason) {
    return new OfferResult(Outcome.REFUSED, reason);
  }

  /** Whether the buffer took responsibility for the batch. */
  public boolean accepted() {
    return outcome != Outcome.REFUSED;
  }
}
