package dev.spillway.core.seal;

/** A batch that was authenticated and decrypted. */
public record OpenedBatch(EpochId epoch, long sequence, PayloadType payloadType, byte[] payload) {}
