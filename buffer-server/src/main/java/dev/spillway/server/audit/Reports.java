package dev.spillway.server.audit;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** The three output formats of {@code spillway audit}: text for people, JSON and SARIF 2.1.0. */
final class Reports {

  private static final String RESET = "\u001b[0m";
  private static final String RED = "\u001b[31;1m";
  private static final String YELLOW = "\u001b[33;1m";
  private static final String GREEN = "\u001b[32m";
  private static final String BOLD = "\u001b[1m";
  private static final String DIM = "\u001b[2m";

  private static final Comparator<Finding> ORDER = Comparator
      .comparing((Finding f) -> f.severity().ordinal())
      .thenComparing(Finding::file)
      .thenComparingInt(Finding::line)
      .thenComparing(f -> f.rule().id());

  private Reports() {}

  static void text(Audit.Result r, PrintStream out, boolean colour) {
    out.println(paint(colour, BOLD, "spillway audit") + ": " + r.inputs().size() + " input(s)");
    for (Audit.AuditInputSummary in : r.inputs()) {
      out.println("  " + in.name() + " (" + in.kind() + ")");
    }
    for (LeakagePoint point : LeakagePoint.values()) {
      List<Finding> group = new ArrayList<>();
      for (Finding f : r.findings()) {
        if (f.point() == point) {
          group.add(f);
        }
      }
      if (group.isEmpty()) {
        continue;
      }
      group.sort(ORDER);
      out.println();
      out.println(paint(colour, BOLD, point.title()));
      for (Finding f : group) {
        String sev = String.format("%-4s", f.severity() == Severity.UNKNOWN ? "????" : f.severity().label().toUpperCase(Locale.ROOT));
        String colourOf = f.severity() == Severity.FAIL ? RED : f.severity() == Severity.WARN ? YELLOW
            : f.severity() == Severity.UNKNOWN ? DIM : GREEN;
        out.println("  " + paint(colour, colourOf, sev) + "  " + f.rule().id() + "  " + location(f));
        out.println("        " + f.message());
        if (f.severity() != Severity.PASS) {
          out.println("        " + paint(colour, DIM, "fix: " + f.fix()));
        }
      }
    }
    if (!r.suppressed().isEmpty()) {
      out.println();
      out.println(paint(colour, BOLD, "Suppressed (baseline or --suppress, with the reason given)"));
      for (Audit.Suppressed s : r.suppressed()) {
        Finding f = s.finding();
        out.println("  " + f.severity().label().toUpperCase(Locale.ROOT) + "  " + f.rule().id() + "  " + location(f)
            + "  -- " + s.reason());
      }
    }
    if (!r.errors().isEmpty()) {
      out.println();
      out.println(paint(colour, BOLD, "Inputs that could not be audited"));
      for (Audit.InputError e : r.errors()) {
        out.println("  " + paint(colour, RED, "ERROR") + " " + e.input() + ": " + e.reason());
      }
    }
    out.println();
    out.println(r.count(Severity.FAIL) + " fail, " + r.count(Severity.WARN) + " warn, "
        + (r.count(Severity.UNKNOWN) == 0 ? "" : r.count(Severity.UNKNOWN) + " unknown, ") + r.count(Severity.PASS)
        + " pass" + (r.suppressed().isEmpty() ? "" : ", " + r.suppressed().size() + " suppressed")
        + (r.errors().isEmpty() ? "" : ", " + r.errors().size() + " input error(s)")
        + "; exit " + r.exitCode());
  }

  private static String location(Finding f) {
    StringBuilder b = new StringBuilder(f.file());
    if (f.line() > 0) {
      b.append(':').append(f.line());
    }
    if (!f.key().isEmpty()) {
      b.append("  ").append(f.key());
    }
    return b.toString();
  }

  private static String paint(boolean colour, String code, String s) {
    return colour ? code + s + RESET : s;
  }

  static void json(Audit.Result r, PrintStream out) {
    StringBuilder b = new StringBuilder();
    b.append("{\n  \"tool\": \"spillway audit\",\n  \"exitCode\": ").append(r.exitCode()).append(",\n");
    b.append("  \"summary\": {\"fail\": ").append(r.count(Severity.FAIL))
        .append(", \"warn\": ").append(r.count(Severity.WARN))
        .append(", \"unknown\": ").append(r.count(Severity.UNKNOWN))
        .append(", \"pass\": ").append(r.count(Severity.PASS))
        .append(", \"suppressed\": ").append(r.suppressed().size())
        .append(", \"errors\": ").append(r.errors().size()).append("},\n");
    b.append("  \"inputs\": [");
    for (int i = 0; i < r.inputs().size(); i++) {
      Audit.AuditInputSummary in = r.inputs().get(i);
      b.append(i == 0 ? "\n" : ",\n").append("    {\"name\": ").append(JsonText.quote(in.name()))
          .append(", \"kind\": ").append(JsonText.quote(in.kind())).append('}');
    }
    b.append(r.inputs().isEmpty() ? "],\n" : "\n  ],\n");
    b.append("  \"errors\": [");
    for (int i = 0; i < r.errors().size(); i++) {
      Audit.InputError e = r.errors().get(i);
      b.append(i == 0 ? "\n" : ",\n").append("    {\"input\": ").append(JsonText.quote(e.input()))
          .append(", \"reason\": ").append(JsonText.quote(e.reason())).append('}');
    }
    b.append(r.errors().isEmpty() ? "],\n" : "\n  ],\n");
    b.append("  \"suppressed\": [");
    for (int i = 0; i < r.suppressed().size(); i++) {
      Audit.Suppressed sup = r.suppressed().get(i);
      b.append(i == 0 ? "\n    " : ",\n    ");
      findingJson(b, sup.finding(), sup.reason());
    }
    b.append(r.suppressed().isEmpty() ? "],\n" : "\n  ],\n");
    b.append("  \"findings\": [");
    List<Finding> sorted = new ArrayList<>(r.findings());
    sorted.sort(Comparator.comparing((Finding f) -> f.point().ordinal()).thenComparing(ORDER));
    for (int i = 0; i < sorted.size(); i++) {
      b.append(i == 0 ? "\n    " : ",\n    ");
      findingJson(b, sorted.get(i), null);
    }
    b.append(sorted.isEmpty() ? "]\n" : "\n  ]\n").append("}");
    out.println(b);
  }

  private static void findingJson(StringBuilder b, Finding f, String suppressedBecause) {
    b.append("{")
        .append("\"rule\": ").append(JsonText.quote(f.rule().id()))
        .append(", \"point\": ").append(JsonText.quote(f.point().id()))
        .append(", \"severity\": ").append(JsonText.quote(f.severity().label()))
        .append(", \"file\": ").append(JsonText.quote(f.file()))
        .append(", \"key\": ").append(JsonText.quote(f.key()))
        .append(", \"line\": ").append(f.line())
        .append(", \"message\": ").append(JsonText.quote(f.message()))
        .append(", \"fix\": ").append(JsonText.quote(f.fix()));
    if (suppressedBecause != null) {
      b.append(", \"reason\": ").append(JsonText.quote(suppressedBecause));
    }
    b.append('}');
  }

  static void sarif(Audit.Result r, PrintStream out) {
    StringBuilder b = new StringBuilder();
    b.append("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n");
    b.append("  \"version\": \"2.1.0\",\n  \"runs\": [{\n");
    b.append("    \"tool\": {\"driver\": {\"name\": \"spillway audit\", \"rules\": [");
    Rule[] rules = Rule.values();
    for (int i = 0; i < rules.length; i++) {
      Rule rule = rules[i];
      b.append(i == 0 ? "\n" : ",\n").append("      {\"id\": ").append(JsonText.quote(rule.id()))
          .append(", \"shortDescription\": {\"text\": ").append(JsonText.quote(rule.title())).append('}')
          .append(", \"help\": {\"text\": ").append(JsonText.quote(rule.fix())).append('}')
          .append(", \"properties\": {\"leakagePoint\": ").append(JsonText.quote(rule.point().id())).append("}}");
    }
    b.append("\n    ]}},\n");
    b.append("    \"invocations\": [{\"executionSuccessful\": ").append(r.errors().isEmpty())
        .append(", \"toolExecutionNotifications\": [");
    for (int i = 0; i < r.errors().size(); i++) {
      Audit.InputError e = r.errors().get(i);
      b.append(i == 0 ? "" : ", ").append("{\"level\": \"error\", \"message\": {\"text\": ")
          .append(JsonText.quote(e.input() + ": " + e.reason())).append("}}");
    }
    b.append("]}],\n    \"results\": [");
    List<Finding> all = new ArrayList<>(r.findings());
    List<String> reasons = new ArrayList<>();
    r.findings().forEach(f -> reasons.add(null));
    for (Audit.Suppressed sup : r.suppressed()) {
      all.add(sup.finding());
      reasons.add(sup.reason());
    }
    for (int i = 0; i < all.size(); i++) {
      Finding f = all.get(i);
      String level = f.severity() == Severity.FAIL ? "error" : f.severity() == Severity.WARN ? "warning" : "none";
      String kind = f.severity() == Severity.PASS ? "pass" : f.severity() == Severity.UNKNOWN ? "review" : "fail";
      b.append(i == 0 ? "\n" : ",\n").append("      {\"ruleId\": ").append(JsonText.quote(f.rule().id()))
          .append(", \"ruleIndex\": ").append(f.rule().ordinal())
          .append(", \"kind\": ").append(JsonText.quote(kind))
          .append(", \"level\": ").append(JsonText.quote(level))
          .append(", \"message\": {\"text\": ")
          .append(JsonText.quote((f.key().isEmpty() ? "" : f.key() + ": ") + f.message())).append('}')
          .append(", \"locations\": [").append(sarifLocation(f)).append("]");
      if (reasons.get(i) != null) {
        b.append(", \"suppressions\": [{\"kind\": \"external\", \"justification\": ")
            .append(JsonText.quote(reasons.get(i))).append("}]");
      }
      b.append(", \"properties\": {\"leakagePoint\": ").append(JsonText.quote(f.point().id()))
          .append(", \"fix\": ").append(JsonText.quote(f.fix())).append("}}");
    }
    b.append(all.isEmpty() ? "]\n" : "\n    ]\n").append("  }]\n}");
    out.println(b);
  }

  private static String sarifLocation(Finding f) {
    if (f.rule().id().startsWith("PROBE-")) {
      return "{\"logicalLocations\": [{\"name\": " + JsonText.quote(f.file()) + ", \"kind\": \"resource\"}]}";
    }
    StringBuilder b = new StringBuilder("{\"physicalLocation\": {\"artifactLocation\": {\"uri\": ")
        .append(JsonText.quote(uri(f.file()))).append('}');
    if (f.line() > 0) {
      b.append(", \"region\": {\"startLine\": ").append(f.line()).append('}');
    }
    b.append('}');
    if (!f.key().isEmpty()) {
      b.append(", \"logicalLocations\": [{\"fullyQualifiedName\": ").append(JsonText.quote(f.key()))
          .append(", \"kind\": \"property\"}]");
    }
    return b.append('}').toString();
  }

  /** A relative or absolute file path as a URI reference: forward slashes, reserved bytes escaped. */
  static String uri(String file) {
    String s = file.replace('\\', '/');
    StringBuilder b = new StringBuilder();
    for (byte by : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = by & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "-._~/".indexOf(c) >= 0) {
        b.append((char) c);
      } else {
        b.append('%').append(String.format("%02X", c));
      }
    }
    String u = b.toString();
    return u.startsWith("/") ? "file://" + u : u;
  }
}
