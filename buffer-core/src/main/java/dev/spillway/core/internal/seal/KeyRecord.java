package dev.spillway.core.internal.seal;

import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.WrappedDataKey;

/**
 * A key record: the wrapped data key of one epoch of one writer stream, signed by the writer's
 * signing key. Written into each spill segment before the first batch that uses the epoch, so
 * every segment is self-contained. Its fields are not trustworthy until an {@link Opener} has
 * checked the signature (which it does before it unwraps the key).
 *
 * @param encoded the record's bytes as stored
 * @param signature the signature over {@code encoded[0, signedLength)} and the binding (empty:
 *     unsigned)
 * @param signedLength how many leading bytes of {@code encoded} the signature covers
 */
public record KeyRecord(
    byte[] streamId,
    long epoch,
    WrappedDataKey wrapped,
    long startedAtMillis,
    byte[] encoded,
    byte[] signature,
    int signedLength)
    implements EnvelopeFormat.Envelope {

  /** The context of an unnamed deployment. */
  public KeyContext context(String queue) {
    return new KeyContext(queue, streamId, epoch);
  }

  public KeyContext context(DeploymentId deployment, String queue) {
    return new KeyContext(queue, streamId, epoch, deployment);
  }

  /** The (stream, epoch) pair this key belongs to. */
  public EpochId epochId() {
    return new EpochId(streamId, epoch);
  }

  public boolean isSigned() {
    return signature.length > 0;
  }
}
