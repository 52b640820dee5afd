package dev.spillway.core;

/** What an acknowledged offer promises. docs/SPILL.md states each guarantee. */
public enum Durability {
  /**
   * Under the memory limit a batch is acknowledged from memory: a hard crash (SIGKILL, power cut)
   * loses what memory held, at most the memory limit. An orderly close seals it to disk.
   */
  MEMORY_FIRST,
  /**
   * Every batch is sealed and appended to disk before the offer returns; memory only serves reads.
   * A process crash loses nothing acknowledged; a power cut loses what the fsync policy allows.
   */
  DURABLE;

  /** Parses a configuration value: memory-first or durable. */
  public static Durability fromConfigName(String name) {
    return switch (name) {
      case "memory-first" -> MEMORY_FIRST;
      case "durable" -> DURABLE;
      default -> throw new IllegalArgumentException(
          "unknown durability '" + name + "' (expected memory-first or durable)");
    };
  }
}
