package dev.spillway.kafka;

import org.apache.kafka.common.TopicPartition;

/**
 * One sealed batch read from the topic: where it was ({@code partition}, {@code offset}), its
 * stream id (the record key), the key record of its epoch, and the sealed batch itself. Nothing
 * here is plaintext.
 */
public record SpilledRecord(TopicPartition partition, long offset, byte[] streamId, byte[] keyRecord,
    byte[] sealedBatch) {
  @Override
  public String toString() { // never the bytes
    return partition + "@" + offset;
  }
}
