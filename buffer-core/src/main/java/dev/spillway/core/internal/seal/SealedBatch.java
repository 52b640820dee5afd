package dev.spillway.core.internal.seal;

/**
 * The output of {@link Sealer#seal}: the record to append, and the key record of its epoch, which
 * must already be in (or be appended before it to) the segment that receives the record.
 */
public record SealedBatch(
    KeyRecord keyRecord, long sequence, long sealedAtMillis, byte[] bytes, int plaintextLength) {}
