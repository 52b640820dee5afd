package dev.spillway.core;

import dev.spillway.core.internal.seal.Codec;

/**
 * Compression applied to a batch before it is sealed. Compressing before encrypting leaks the
 * compressed length (the CRIME family): docs/ENVELOPE.md weighs that against the disk throughput
 * it buys; {@link #NONE} turns it off.
 */
public enum Compression {
  /** Stored as given. */
  NONE,
  /** LZ4 block format: the default, fast on both sides. */
  LZ4,
  /** One zstd frame, level 1: about a third fewer bytes than LZ4 for about twice its CPU. */
  ZSTD;

  /**
   * Parses a configuration value: none, lz4 or zstd.
   *
   * @throws IllegalArgumentException for an unknown name, or zstd where its native library cannot
   *     load (another platform, a noexec temporary directory)
   */
  public static Compression fromConfigName(String name) {
    return Codec.fromConfigName(name).compression();
  }
}
