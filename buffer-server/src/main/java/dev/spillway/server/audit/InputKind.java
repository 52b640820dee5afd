package dev.spillway.server.audit;

/** The kinds of file {@code spillway audit} understands. */
enum InputKind {
  COLLECTOR_CONFIG("collector config"),
  SDK_ENV("SDK environment file"),
  TEMPO_CONFIG("Tempo config"),
  IAM_POLICY("IAM policy"),
  SPILLWAY_CONFIG("Spillway config");

  private final String label;

  InputKind(String label) {
    this.label = label;
  }

  String label() {
    return label;
  }
}
