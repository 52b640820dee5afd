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

  /** The first verifier among the unwrappers (one verifier keyset holds every signing key). */
  @Override
  public KeyRecordVerifier verifier() {
    for (DataKeyUnwrapper u : unwrappers) {
      if (u.verifier() != null) {
        return u.verifier();
      }
    }
    return null;
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
