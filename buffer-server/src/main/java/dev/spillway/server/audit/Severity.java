package dev.spillway.server.audit;

/** Outcome of one check. Only {@link #FAIL} makes {@code spillway audit} exit 1 (or 3). */
enum Severity {
  /** Plaintext can leak, or a control the article requires is missing. */
  FAIL("fail"),
  /** Not a leak by itself, but fragile, advisory, or confined to one host. */
  WARN("warn"),
  /** The check could not judge from this machine (a path of another host); informational. */
  UNKNOWN("unknown"),
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
