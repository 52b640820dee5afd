package dev.spillway.server.audit;

/** Outcome of one check. Only {@link #FAIL} makes {@code spillway audit} exit 1. */
enum Severity {
  /** Plaintext can leak, or a control the article requires is missing. */
  FAIL("fail"),
  /** Not a leak by itself, but fragile or unverifiable from here. */
  WARN("warn"),
  /** The check ran and found the control in place (informational). */
  PASS("pass");

  private final String label;

  Severity(String label) {
    this.label = label;
  }

  String label() {
    return label;
  }
}
