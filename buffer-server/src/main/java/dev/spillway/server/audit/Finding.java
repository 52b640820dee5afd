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
 * @param fix how to fix it here: the check's advice for this context, else the rule's general fix
 */
record Finding(Rule rule, Severity severity, String file, String key, int line, String message, String fix) {

  Finding {
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(fix, "fix");
  }

  Finding(Rule rule, Severity severity, String file, String key, int line, String message) {
    this(rule, severity, file, key, line, message, rule.fix());
  }

  LeakagePoint point() {
    return rule.point();
  }

  /** The identity a baseline or suppression refers to: rule, file and key (lines move when files are edited). */
  String fingerprint() {
    return rule.id() + "\t" + file + "\t" + key;
  }
}
