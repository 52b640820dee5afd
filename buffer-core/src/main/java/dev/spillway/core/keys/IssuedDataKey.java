package dev.spillway.core.keys;

import java.util.Objects;

/**
 * A fresh data key and its wrapped form, as a {@link DataKeyIssuer} hands them to the writer. The
 * writer seals with {@link #plaintext()} and stores {@link #wrapped()}; it destroys the plaintext
 * when the epoch ends.
 */
public record IssuedDataKey(DataKey plaintext, WrappedDataKey wrapped) {
  public IssuedDataKey {
    Objects.requireNonNull(plaintext, "plaintext");
    Objects.requireNonNull(wrapped, "wrapped");
  }
}
