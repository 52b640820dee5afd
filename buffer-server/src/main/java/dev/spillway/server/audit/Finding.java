package dev.spillway.server.audit;

import java.util.Objects;

/**
 * One result of one check.
 *
 * @param rule which check produced it
 * @param severity its outcome
 * @param file the audited file, or the probe target as {@code HOST:PORT}
 * @param key dotted key path inside the file (or the variable name), empty when not applicable
 * @param line 1-based line in the file, 0 when unknown
 * @param message what was found, specific to this file
 */
record Finding(Rule rule, Severity severity, String file, String key, int line, String message) {

  Finding {
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(message, "message");
  }

  LeakagePoint point() {
    return rule.point();
  }

  /** How to fix it: the rule's general fix. */
  String fix() {
    return rule.fix();
  }
}
