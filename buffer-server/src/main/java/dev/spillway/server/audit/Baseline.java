package dev.spillway.server.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The baseline file: findings a team has accepted, each with its reason, so that CI fails only on
 * new ones. One finding per line, tab-separated: {@code RULE-ID  FILE  KEY  REASON}; {@code #}
 * starts a comment. A finding is identified by rule, file and key, not line, so editing the file
 * above it does not revive it. A line without a reason is refused: a suppression must say why.
 * {@code --write-baseline} writes the current findings with a dated reason to edit.
 */
final class Baseline {

  private Baseline() {}

  /**
   * @throws IllegalArgumentException naming the file, line and problem
   */
  static Audit.Suppressions read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("--baseline " + file + ": cannot read: " + e.getMessage());
    }
    Map<String, String> reasons = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank() || line.stripLeading().startsWith("#")) {
        continue;
      }
      String[] cols = line.split("\t", 4);
      if (cols.length < 4 || cols[3].isBlank()) {
        throw new IllegalArgumentException("--baseline " + file + " line " + (i + 1)
            + ": expected RULE-ID<TAB>FILE<TAB>KEY<TAB>REASON, and the reason must not be empty");
      }
      try {
        Rule.byId(cols[0].trim());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--baseline " + file + " line " + (i + 1) + ": " + e.getMessage());
      }
      reasons.put(Rule.byId(cols[0].trim()).id() + "\t" + cols[1] + "\t" + cols[2], cols[3].trim());
    }
    return new Audit.Suppressions(reasons);
  }

  static void write(Path file, Audit.Result result, Clock clock) throws IOException {
    List<String> out = new ArrayList<>();
    out.add("# spillway audit baseline: RULE-ID<TAB>FILE<TAB>KEY<TAB>REASON; replace each reason with the real one");
    for (Finding f : result.findings()) {
      if (f.severity() == Severity.FAIL || f.severity() == Severity.WARN) {
        out.add(f.fingerprint() + "\taccepted in the baseline of " + clock.instant() + ": " + f.message()
            .replace('\t', ' ').replace('\n', ' '));
      }
    }
    for (Audit.Suppressed s : result.suppressed()) {
      out.add(s.finding().fingerprint() + "\t" + s.reason());
    }
    Files.write(file, out, StandardCharsets.UTF_8);
  }
}
