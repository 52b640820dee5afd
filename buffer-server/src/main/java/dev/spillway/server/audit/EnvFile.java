package dev.spillway.server.audit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An SDK environment file: {@code KEY=VALUE} or {@code export KEY=VALUE} lines, blank lines and
 * {@code #} comments, the forms a shell {@code source}s and systemd's EnvironmentFile reads. Values
 * may be single- or double-quoted; an unquoted value ends at {@code " #"}. Later assignments win,
 * as in a shell.
 */
final class EnvFile {

  private static final Pattern ASSIGNMENT =
      Pattern.compile("^\\s*(?:export\\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$");

  /** A value with the line it was set on. */
  record Entry(String value, int line) {}

  private final Map<String, Entry> entries;

  private EnvFile(Map<String, Entry> entries) {
    this.entries = entries;
  }

  /** True when every non-blank, non-comment line is an assignment and there is at least one. */
  static boolean looksLike(String text) {
    int assignments = 0;
    for (String raw : text.split("\\R", -1)) {
      String line = raw.trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (!ASSIGNMENT.matcher(line).matches()) {
        return false;
      }
      assignments++;
    }
    return assignments > 0;
  }

  /**
   * @throws IllegalArgumentException naming the first line that is not an assignment
   */
  static EnvFile parse(String text) {
    Map<String, Entry> out = new LinkedHashMap<>();
    String[] lines = text.split("\\R", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      Matcher m = ASSIGNMENT.matcher(line);
      if (!m.matches()) {
        throw new IllegalArgumentException(
            "line " + (i + 1) + " is not KEY=VALUE or export KEY=VALUE: " + abbreviate(line));
      }
      out.put(m.group(1), new Entry(unquote(m.group(2), i + 1), i + 1));
    }
    return new EnvFile(Collections.unmodifiableMap(out));
  }

  private static String unquote(String v, int lineNo) {
    String s = v.trim();
    if (s.startsWith("\"") || s.startsWith("'")) {
      char q = s.charAt(0);
      int end = s.indexOf(q, 1);
      if (end < 0) {
        throw new IllegalArgumentException("line " + lineNo + " has an unterminated quote");
      }
      return s.substring(1, end);
    }
    int comment = s.indexOf(" #");
    return (comment >= 0 ? s.substring(0, comment) : s).trim();
  }

  private static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 57) + "...";
  }

  /** Variables read from elsewhere (a compose service's {@code environment:}), with their lines. */
  static EnvFile of(Map<String, Entry> entries) {
    return new EnvFile(Collections.unmodifiableMap(new LinkedHashMap<>(entries)));
  }

  /** True when any {@code OTEL_EXPORTER_OTLP_*} variable is set: only then is this an SDK exporter's setup. */
  boolean configuresOtlpExporter() {
    return entries.keySet().stream().anyMatch(k -> k.startsWith("OTEL_EXPORTER_OTLP_"));
  }

  /** The value, or null when the variable is not set or set to the empty string. */
  Entry get(String name) {
    Entry e = entries.get(name);
    return e == null || e.value().isEmpty() ? null : e;
  }

  Map<String, Entry> all() {
    return entries;
  }
}
