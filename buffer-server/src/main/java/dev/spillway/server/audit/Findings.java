package dev.spillway.server.audit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Collects findings in the order the checks produce them. Not thread-safe: one per audit. */
final class Findings {

  private final List<Finding> list = new ArrayList<>();

  void add(Rule rule, Severity severity, String file, ConfigNode at, String message) {
    list.add(new Finding(rule, severity, file, at.path(), at.line(), message));
  }

  void add(Rule rule, Severity severity, String file, String key, int line, String message) {
    list.add(new Finding(rule, severity, file, key, line, message));
  }

  void fail(Rule rule, String file, ConfigNode at, String message) {
    add(rule, Severity.FAIL, file, at, message);
  }

  void warn(Rule rule, String file, ConfigNode at, String message) {
    add(rule, Severity.WARN, file, at, message);
  }

  List<Finding> list() {
    return Collections.unmodifiableList(list);
  }
}
