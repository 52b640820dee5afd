package dev.spillway.core.internal.seal;

import dev.spillway.core.QuarantineReason;

/**
 * The key record of a batch's epoch carries no valid signature by the writer's signing key:
 * forged by someone holding only the public wrapping key, altered, or signed for another
 * deployment or queue. The batch is refused before its key is unwrapped.
 */
public final class KeyRecordSignatureException extends EnvelopeException {
  private static final long serialVersionUID = 1L;

  public KeyRecordSignatureException(String message) {
    super(message);
  }

  @Override
  public QuarantineReason reason() {
    return QuarantineReason.FORGED_KEY;
  }
}
