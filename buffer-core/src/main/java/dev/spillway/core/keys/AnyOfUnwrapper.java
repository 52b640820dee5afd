package dev.spillway.core.keys;

import java.util.List;

/** See {@link DataKeyUnwrapper#anyOf}. */
final class AnyOfUnwrapper implements DataKeyUnwrapper {
  private final List<DataKeyUnwrapper> unwrappers;

  AnyOfUnwrapper(List<DataKeyUnwrapper> unwrappers) {
    if (unwrappers.isEmpty()) {
      throw new IllegalArgumentException("at least one unwrapper is needed");
    }
    this.unwrappers = unwrappers;
  }

  /**
   * Every unwrapper's verifier: a key record signed by any of them verifies (a reader holding the
   * previous deployment's reader keyset holds its verifying keys too). Null if none has one.
   */
  @Override
  public KeyRecordVerifier verifier() {
    java.util.List<KeyRecordVerifier> all = new java.util.ArrayList<>();
    for (DataKeyUnwrapper u : unwrappers) {
      if (u.verifier() != null) {
        all.add(u.verifier());
      }
    }
    return all.isEmpty() ? null : KeyRecordVerifier.anyOf(all);
  }

  /**
   * Whether any unwrapper that accepts the key requires a signature: an {@code aws-kms} reader
   * without a verifier beside a previous local keyset (which has one) still accepts unsigned
   * {@code aws-kms} key records.
   */
  @Override
  public boolean requiresSignature(WrappedDataKey wrapped) {
    boolean anyAccepts = false;
    for (DataKeyUnwrapper u : unwrappers) {
      if (u.accepts(wrapped)) {
        anyAccepts = true;
        if (u.requiresSignature(wrapped)) {
          return true;
        }
      }
    }
    return !anyAccepts || wrapped.provider() != KeyProviderId.AWS_KMS;
  }

  @Override
  public boolean accepts(WrappedDataKey wrapped) {
    return unwrappers.stream().anyMatch(u -> u.accepts(wrapped));
  }

  @Override
  public DataKey unwrap(WrappedDataKey wrapped, KeyContext context)
      throws KeyUnavailableException, KeyRefusedException {
    KeyRefusedException refused = null;
    KeyUnavailableException unavailable = null;
    for (DataKeyUnwrapper u : unwrappers) {
      if (!u.accepts(wrapped)) {
        continue;
      }
      try {
        return u.unwrap(wrapped, context);
      } catch (KeyRefusedException e) {
        refused = e;
      } catch (KeyUnavailableException e) {
        unavailable = e;
      }
    }
    // A transient failure of one candidate outranks a refusal by another: retry rather than quarantine.
    if (unavailable != null) {
      throw unavailable;
    }
    if (refused != null) {
      throw refused;
    }
    throw new KeyRefusedException("no reader key accepts " + wrapped);
  }
}
