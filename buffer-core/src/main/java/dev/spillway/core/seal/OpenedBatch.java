package dev.spillway.core.seal;

/** A batch that was authenticated and decrypted. */
public record OpenedBatch(
    EpochId epoch, long sequence, long sealedAtMillis, PayloadType payloadType, byte[] payload) {}
