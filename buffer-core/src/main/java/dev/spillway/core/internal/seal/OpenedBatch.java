package dev.spillway.core.internal.seal;

import dev.spillway.core.PayloadType;

/**
 * A batch that was authenticated and decrypted.
 *
 * @param missingBefore how many records of its stream were never seen before this one: the jump
 *     past the stream's last accepted sequence, or, for the first record of a stream ({@code
 *     firstOfStream}), its own sequence number (records 0..n-1 were not seen; normal when they were
 *     drained and deleted before the watermarks were kept, or read by an earlier reader)
 * @param firstOfStream whether the stream was unknown to the watermarks
 */
public record OpenedBatch(
    EpochId epoch,
    long sequence,
    long sealedAtMillis,
    PayloadType payloadType,
    byte[] payload,
    long missingBefore,
    boolean firstOfStream) {

  /** A batch with no gap information (a stream's first record at sequence 0). */
  public OpenedBatch(EpochId epoch, long sequence, long sealedAtMillis, PayloadType payloadType, byte[] payload) {
    this(epoch, sequence, sealedAtMillis, payloadType, payload, 0, false);
  }
}
