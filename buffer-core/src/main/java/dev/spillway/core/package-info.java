/**
 * Spillway's public API: an encrypted, crash-safe spill buffer for telemetry batches.
 *
 * <p>The supported surface, with a compatibility promise:
 *
 * <ul>
 *   <li>{@link dev.spillway.core.SpillBuffer} and its {@link dev.spillway.core.SpillBufferBuilder};
 *       the narrower views {@link dev.spillway.core.SpillWriter} and {@link dev.spillway.core.SpillReader}
 *   <li>what an offer and a poll return: {@link dev.spillway.core.OfferResult},
 *       {@link dev.spillway.core.Delivery}
 *   <li>the settings a builder takes: {@link dev.spillway.core.Durability},
 *       {@link dev.spillway.core.FsyncPolicy}, {@link dev.spillway.core.OverflowPolicy},
 *       {@link dev.spillway.core.Compression}, {@link dev.spillway.core.RotationPolicy},
 *       {@link dev.spillway.core.PayloadType}
 *   <li>{@link dev.spillway.core.BufferObserver} (with {@link dev.spillway.core.QuarantineReason}) and
 *       {@link dev.spillway.core.BufferMetrics}
 *   <li>{@link dev.spillway.core.SpillInspection}: a read-only look at a spill directory (what
 *       {@code spill inspect} and the benchmarks use)
 *   <li>the key-provider interfaces in {@code dev.spillway.core.keys} (and the AWS KMS provider in
 *       {@code dev.spillway.core.keys.aws}), the drain in {@code dev.spillway.core.drain}, and the
 *       OpenTelemetry SDK exporters in {@code dev.spillway.core.export}
 * </ul>
 *
 * <p>Everything under {@code dev.spillway.core.internal} (the envelope and sealing in
 * {@code internal.seal}, the Chronicle spill files in {@code internal.spill}) has no compatibility
 * promise. No public signature in the packages above mentions an internal type
 * ({@code PublicApiTest} checks it).
 */
package dev.spillway.core;
