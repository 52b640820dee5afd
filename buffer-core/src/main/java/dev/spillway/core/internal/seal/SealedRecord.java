package dev.spillway.core.internal.seal;

import dev.spillway.core.PayloadType;

/**
 * A sealed batch as parsed from disk, not yet opened. Its header fields are not trustworthy until
 * {@link Opener#open} has authenticated them.
 *
 * @param sealedAtMillis when the writer sealed it (authenticated; used for the age limit)
 * @param encoded the record's bytes as stored
 */
public record SealedRecord(
    byte[] streamId,
    long epoch,
    long sequence,
    long sealedAtMillis,
    Codec codec,
    PayloadType payloadType,
    int plaintextLength,
    byte[] encoded)
    implements EnvelopeFormat.Envelope {

  public EpochId epochId() {
    return new EpochId(streamId, epoch);
  }
}
