package dev.spillway.core.seal;

import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.WrappedDataKey;

/**
 * A key record: the wrapped data key of one epoch of one writer stream. Written into each spill
 * segment before the first batch that uses the epoch, so every segment is self-contained.
 *
 * @param encoded the record's bytes as stored
 */
public record KeyRecord(
    byte[] streamId, long epoch, WrappedDataKey wrapped, long startedAtMillis, byte[] encoded)
    implements EnvelopeFormat.Envelope {

  public KeyContext context(String queue) {
    return new KeyContext(queue, streamId, epoch);
  }

  /** The (stream, epoch) pair this key belongs to. */
  public EpochId epochId() {
    return new EpochId(streamId, epoch);
  }
}
