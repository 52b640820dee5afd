package dev.spillway.core.keys;

import java.util.Objects;

/** See {@link DataKeyUnwrapper#verifiedBy}. */
final class VerifiedUnwrapper implements DataKeyUnwrapper {
  private final DataKeyUnwrapper unwrapper;
  private final KeyRecordVerifier verifier;

  VerifiedUnwrapper(DataKeyUnwrapper unwrapper, KeyRecordVerifier verifier) {
    this.unwrapper = Objects.requireNonNull(unwrapper, "unwrapper");
    this.verifier = Objects.requireNonNull(verifier, "verifier");
  }

  @Override
  public boolean accepts(WrappedDataKey wrapped) {
    return unwrapper.accepts(wrapped);
  }

  @Override
  public DataKey unwrap(WrappedDataKey wrapped, KeyContext context)
      throws KeyUnavailableException, KeyRefusedException {
    return unwrapper.unwrap(wrapped, context);
  }

  @Override
  public boolean requiresSignature(WrappedDataKey wrapped) {
    return true;
  }

  @Override
  public KeyRecordVerifier verifier() {
    return verifier;
  }

  @Override
  public String toString() {
    return unwrapper + " verified by " + verifier;
  }
}
