package dev.spillway.server.audit;

/**
 * Where a finding belongs in the reference article's picture of an OpenTelemetry pipeline.
 * The order is the order of the report: data flows SDK → receiver → disk → storage.
 */
enum LeakagePoint {
  POINT_1("1", "Leakage point 1: SDK export in transit"),
  RECEIVERS("receivers", "Receivers: TLS and mTLS at ingress"),
  POINT_2("2", "Leakage point 2: spill and queues on disk"),
  POINT_3("3", "Leakage point 3: backend storage at rest"),
  PITFALL("pitfall", "Common pitfalls across configurations");

  private final String id;
  private final String title;

  LeakagePoint(String id, String title) {
    this.id = id;
    this.title = title;
  }

  /** Stable id used in JSON and SARIF output: 1, 2, 3, receivers, pitfall. */
  String id() {
    return id;
  }

  String title() {
    return title;
  }
}
