package dev.spillway.core;

/**
 * A snapshot of a buffer's counters (since start) and gauges (now). Batch counts, not spans: the
 * buffer does not parse payloads.
 *
 * @param memoryBatches gauge: batches held in memory (queued or being delivered)
 * @param memoryBytes gauge: payload bytes held in memory
 * @param diskBytes gauge: bytes the spill directory occupies on the device (allocated blocks)
 * @param diskRecordsPending gauge: sealed batches on disk not yet acknowledged (approximate across
 *     processes)
 * @param oldestRecordAgeMillis gauge: age of the oldest unacknowledged batch on disk, 0 if none
 * @param keyEpochs counter: data keys this writer has used
 * @param keyRequests counter: calls to the key provider to issue a data key
 * @param offered counter: offers
 * @param acceptedInMemory counter: batches accepted into memory
 * @param spilled counter: batches sealed to disk (including memory sealed at close)
 * @param refused counter: batches refused with back-pressure
 * @param dropped counter: batches dropped by the overflow policy or the age limit
 * @param delivered counter: deliveries handed to the consumer (redeliveries included)
 * @param acked counter: deliveries acknowledged
 * @param quarantined counter: records moved to quarantine (tampered, unknown key, bad format)
 * @param torn counter: records torn by a crash mid-write, skipped
 * @param storageFaults counter: appends that failed on the storage (full disk, I/O error)
 * @param missing counter: records found missing from their writer streams (sequence gaps: records
 *     deleted from the spill, or dropped by the drop-oldest overflow policy, which also counts them
 *     as dropped)
 * @param metadataRecords counter: spill records found with Chronicle's metadata bit set (tampered:
 *     Chronicle would skip them silently), skipped
 * @param unreadableRecords counter: places where the spill's structure could not be read (Chronicle
 *     failed on a record); the reader skipped to the next segment
 */
public record BufferMetrics(
    long memoryBatches,
    long memoryBytes,
    long diskBytes,
    long diskRecordsPending,
    long oldestRecordAgeMillis,
    long keyEpochs,
    long keyRequests,
    long offered,
    long acceptedInMemory,
    long spilled,
    long refused,
    long dropped,
    long delivered,
    long acked,
    long quarantined,
    long torn,
    long storageFaults,
    long missing,
    long metadataRecords,
    long unreadableRecords) {}
