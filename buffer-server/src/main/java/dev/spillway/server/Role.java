package dev.spillway.server;

/** Which halves a serve process runs. */
public enum Role {
  /** Receivers and drain in one process (the default). */
  BOTH,
  /** Receivers only; holds the writer key, cannot read the spill. */
  INGEST,
  /** Drain and export only; holds the reader key. */
  DRAIN;

  public static Role fromName(String name) {
    return switch (name) {
      case "both" -> BOTH;
      case "ingest" -> INGEST;
      case "drain" -> DRAIN;
      default -> throw new IllegalArgumentException("--role must be ingest, drain or both, got '" + name + "'");
    };
  }

  public String configName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
