package dev.spillway.server.audit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Collects findings in the order the checks produce them. A finding at a node names the file the
 * node came from (a layered or embedded configuration spans files); the same rule, severity, file
 * and line is reported once (YAML aliases make one node reachable by two paths). Not thread-safe:
 * one per audit.
 */
final class Findings {

  private final List<Finding> list = new ArrayList<>();
  private final Set<String> seen = new HashSet<>();

  void add(Rule rule, Severity severity, String file, ConfigNode at, String message) {
    add(rule, severity, file, at, message, rule.fix());
  }

  void add(Rule rule, Severity severity, String file, ConfigNode at, String message, String fix) {
    String where = at.file().isEmpty() ? file : at.file();
    add(new Finding(rule, severity, where, at.path(), at.line(), message, fix));
  }

  void add(Rule rule, Severity severity, String file, String key, int line, String message) {
    add(new Finding(rule, severity, file, key, line, message));
  }

  void add(Finding f) {
    String identity = f.rule() + "\t" + f.severity() + "\t" + f.file() + "\t"
        + (f.line() > 0 ? String.valueOf(f.line()) : f.key());
    if (seen.add(identity)) {
      list.add(f);
    }
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
