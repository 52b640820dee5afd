package dev.spillway.core.keys.aws;

import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyRefusedException;
import dev.spillway.core.keys.KeyUnavailableException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.kms.model.IncorrectKeyException;
import software.amazon.awssdk.services.kms.model.InvalidCiphertextException;
import software.amazon.awssdk.services.kms.model.InvalidKeyUsageException;
import software.amazon.awssdk.services.kms.model.NotFoundException;

/**
 * Sorts KMS failures into "retry later" and "never". See docs/KMS.md, "Failure classification".
 *
 * <p>On the write side every failure is {@link KeyUnavailableException}: nothing is written
 * without a key, so the only possible answer is back-pressure until the KMS (or the operator)
 * fixes it. On the read side only errors that prove the <em>record</em> cannot be opened with a
 * key this reader was told to hold are refusals; anything an operator could fix (access denied, a
 * disabled key, a key pending deletion) or that may pass (network, time-outs, throttling, 5xx,
 * anything unknown) keeps the record in place. Never losing data outranks never stalling: a
 * stalled reader is visible and recoverable, a quarantined backlog needs a manual replay.
 */
final class KmsErrors {
  private KmsErrors() {}

  /** Whether a failed Decrypt means this record can never be opened here. */
  static boolean isPermanentForDecrypt(Throwable t) {
    return t instanceof InvalidCiphertextException // tampered, truncated, or another context
        || t instanceof IncorrectKeyException // wrapped under another key than the one named
        || t instanceof NotFoundException // the key was deleted (ARN region checked at build)
        || t instanceof InvalidKeyUsageException; // not an ENCRYPT_DECRYPT key of this kind
  }

  static KeyUnavailableException unavailable(
      KmsOperation op, String keyRef, KeyContext context, Throwable cause) {
    return new KeyUnavailableException(
        op.apiName() + " on " + keyRef + " for " + context + " failed: " + describe(cause), cause);
  }

  static KeyRefusedException refused(
      KmsOperation op, String keyRef, KeyContext context, Throwable cause) {
    return new KeyRefusedException(
        op.apiName() + " on " + keyRef + " refused the wrapped key for " + context + ": "
            + describe(cause),
        cause);
  }

  /**
   * A short description: the AWS error code, HTTP status and request id, or the client-side
   * exception. KMS error messages do not echo request bodies, so no key material appears here.
   */
  static String describe(Throwable t) {
    if (t instanceof AwsServiceException e && e.awsErrorDetails() != null) {
      return e.awsErrorDetails().errorCode()
          + " (HTTP " + e.statusCode() + ", request " + e.requestId() + ")";
    }
    String message = t.getMessage();
    return t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
