/**
 * Internal: no compatibility promise; used by buffer-kafka/buffer-server only through the engine,
 * and by the benchmarks of the spill files themselves.
 *
 * <p>The spill log on disk: Chronicle Queue files ({@link dev.spillway.core.internal.spill.ChronicleSpillLog}
 * behind {@link dev.spillway.core.internal.spill.SpillLog}), their checks, and where quarantined
 * records go. Only this package knows Chronicle's files. To look at a spill directory from outside,
 * use the public {@link dev.spillway.core.SpillInspection}.
 */
package dev.spillway.core.internal.spill;
