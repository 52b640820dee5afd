package dev.spillway.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The audit against 32 public real-world configuration files (audit/corpus, see LABELS.md there):
 * each run of runs.tsv goes through the command as an operator would type it, and its findings
 * are matched against the hand labels of labels.tsv on (run, file, line, rule, severity). A file
 * the audit refuses counts every label on it as missed. Pass and unknown outcomes are
 * informational and not counted.
 */
class CorpusPrecisionRecallTest {

  private static final double REQUIRED = 0.95;

  /** One labelled or reported finding. */
  record Key(String run, String file, int line, String rule, String severity) {
    @Override
    public String toString() {
      return run + "  " + file + ":" + line + "  " + rule + ":" + severity;
    }
  }

  /** Matches per rule. */
  static final class Score {
    int truePositives;
    int falsePositives;
    int falseNegatives;

    double precision() {
      int reported = truePositives + falsePositives;
      return reported == 0 ? 1.0 : (double) truePositives / reported;
    }

    double recall() {
      int labelled = truePositives + falseNegatives;
      return labelled == 0 ? 1.0 : (double) truePositives / labelled;
    }
  }

  @Test
  void corpus_everyRun_precisionAndRecallAtLeast95Percent() throws IOException {
    Path corpus = AuditTesting.fixture("corpus");
    Map<String, String[]> runs = readRuns(corpus.resolve("runs.tsv"));
    List<Key> labels = readLabels(corpus.resolve("labels.tsv"));
    assertThat(labels).allSatisfy(k -> assertThat(runs).containsKey(k.run()));

    List<Key> reported = new ArrayList<>();
    Map<String, List<String>> refused = new HashMap<>();
    for (Map.Entry<String, String[]> run : runs.entrySet()) {
      runOne(corpus, run.getKey(), run.getValue(), reported, refused);
    }

    List<Key> unmatchedLabels = new ArrayList<>(labels);
    List<Key> falsePositives = new ArrayList<>();
    Map<String, Score> byRule = new TreeMap<>();
    Score total = new Score();
    for (Key k : reported) {
      Score s = byRule.computeIfAbsent(k.rule(), r -> new Score());
      if (unmatchedLabels.remove(k)) {
        s.truePositives++;
        total.truePositives++;
      } else {
        s.falsePositives++;
        total.falsePositives++;
        falsePositives.add(k);
      }
    }
    for (Key k : unmatchedLabels) {
      byRule.computeIfAbsent(k.rule(), r -> new Score()).falseNegatives++;
      total.falseNegatives++;
    }

    StringBuilder report = new StringBuilder("\nspillway audit on the real-world corpus\n");
    report.append(String.format(Locale.ROOT, "%-24s %4s %4s %4s %9s %7s%n", "rule", "TP", "FP", "FN", "precision", "recall"));
    byRule.forEach((rule, s) -> report.append(row(rule, s)));
    report.append(row("overall", total));
    refused.forEach((run, inputs) -> report.append("refused in ").append(run).append(": ").append(inputs).append('\n'));
    falsePositives.forEach(k -> report.append("FALSE POSITIVE ").append(k).append('\n'));
    unmatchedLabels.forEach(k -> report.append("MISSED         ").append(k).append('\n'));
    System.out.println(report);

    assertThat(total.precision()).as(report.toString()).isGreaterThanOrEqualTo(REQUIRED);
    assertThat(total.recall()).as(report.toString()).isGreaterThanOrEqualTo(REQUIRED);
  }

  private static String row(String name, Score s) {
    return String.format(Locale.ROOT, "%-24s %4d %4d %4d %8.1f%% %6.1f%%%n", name, s.truePositives, s.falsePositives,
        s.falseNegatives, 100 * s.precision(), 100 * s.recall());
  }

  /** Runs the command with --format json from the corpus folder's point of view. */
  private static void runOne(Path corpus, String run, String[] args, List<Key> reported,
      Map<String, List<String>> refused) {
    List<String> full = new ArrayList<>(List.of("--format", "json"));
    for (String a : args) {
      full.add(a.startsWith("--") ? a : corpus.resolve(a).toString());
    }
    AuditTesting.CommandRun r = AuditTesting.command(AuditTesting.ciEnvironment(), full.toArray(String[]::new));
    JsonObject json;
    try {
      json = JsonParser.parseString(r.out()).getAsJsonObject();
    } catch (RuntimeException e) {
      refused.put(run, List.of("(no JSON report: exit " + r.exitCode() + ", " + r.err().trim() + ")"));
      return;
    }
    for (JsonElement e : json.getAsJsonArray("errors")) {
      refused.computeIfAbsent(run, k -> new ArrayList<>())
          .add(relative(corpus, e.getAsJsonObject().get("input").getAsString()) + ": "
              + e.getAsJsonObject().get("reason").getAsString());
    }
    JsonArray findings = json.getAsJsonArray("findings");
    for (JsonElement e : findings) {
      JsonObject f = e.getAsJsonObject();
      String severity = f.get("severity").getAsString();
      if (!severity.equals("fail") && !severity.equals("warn")) {
        continue;
      }
      reported.add(new Key(run, relative(corpus, f.get("file").getAsString()), f.get("line").getAsInt(),
          f.get("rule").getAsString(), severity));
    }
  }

  private static String relative(Path corpus, String file) {
    Path p = Path.of(file);
    return p.isAbsolute() && p.startsWith(corpus) ? corpus.relativize(p).toString() : file;
  }

  private static Map<String, String[]> readRuns(Path file) throws IOException {
    Map<String, String[]> runs = new TreeMap<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] cols = line.split("\t");
      runs.put(cols[0], cols[1].trim().split("\\s+"));
    }
    return runs;
  }

  private static List<Key> readLabels(Path file) throws IOException {
    List<Key> labels = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] c = line.split("\t");
      assertThat(c).as("label line needs run, file, line, rule, severity, why: %s", line).hasSize(6);
      labels.add(new Key(c[0], c[1], Integer.parseInt(c[2]), c[3], c[4]));
    }
    return labels;
  }
}
