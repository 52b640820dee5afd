/**
 * Internal: no compatibility promise; used by buffer-kafka (which seals and opens its records with
 * {@link dev.spillway.core.internal.seal.Sealer} and {@link dev.spillway.core.internal.seal.Opener}),
 * buffer-server (to build the Kafka spill) and the benchmarks of sealing itself.
 *
 * <p>The envelope: its byte format ({@link dev.spillway.core.internal.seal.EnvelopeFormat}), the
 * write side ({@code Sealer}: compression, epochs, key records), the read side ({@code Opener}) and
 * the per-stream replay watermarks. Only this package knows the envelope bytes. Users choose what it
 * does through the public {@link dev.spillway.core.Compression} and
 * {@link dev.spillway.core.RotationPolicy}.
 */
package dev.spillway.core.internal.seal;
