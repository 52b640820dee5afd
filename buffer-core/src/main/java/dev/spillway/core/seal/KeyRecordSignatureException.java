package dev.spillway.core.seal;

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
  public Reason reason() {
    return Reason.FORGED_KEY;
  }
}
