package dev.spillway.server.audit;

import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code spillway audit}: the reference article's verification checklist as a command.
 *
 * <pre>
 * spillway audit [--format text|json|sarif] [--config FILE]... [--pair SDK-FILE RECEIVER-FILE]...
 *                [--writer-role ARN|POLICY]... [--reader-role ARN|POLICY]... [--baseline FILE]
 *                [--write-baseline FILE] [--probe HOST:PORT]... [--skip RULE-ID]... [FILE|FOLDER]...
 * </pre>
 *
 * <p>Each FILE is recognised by its content (and, for ties, its name): collector, Tempo, Spillway
 * and IAM documents, also inside ConfigMaps, Helm values, {@code OpenTelemetryCollector} resources
 * and multi-document manifests, SDK environment files and docker-compose {@code environment:}. A
 * FOLDER is one deployment: its files are read and its SDKs paired with its receivers.
 * {@code --config} files are merged in order, as the collector merges them. Each {@code --probe}
 * connects to a live endpoint without a client certificate.
 *
 * <p>Exit status: 0 when no finding fails, 1 when one does, 2 when an input could not be read,
 * parsed, recognised or reached (or the command line is wrong) and none fails, 3 when both. Rule
 * ids and their rationale are in docs/AUDIT.md. Stateless; each call is independent.
 */
public final class AuditCommand {

  static final String USAGE = "usage: spillway audit [--format text|json|sarif] [--config FILE]..."
      + " [--pair SDK-FILE RECEIVER-FILE]... [--writer-role ARN|POLICY]... [--reader-role ARN|POLICY]..."
      + " [--baseline FILE] [--write-baseline FILE] [--probe HOST:PORT]... [--skip RULE-ID]... [FILE|FOLDER]...";

  private static final Set<String> OPTIONS = Set.of("--format", "--probe", "--skip", "--config", "--pair",
      "--writer-role", "--reader-role", "--baseline", "--write-baseline");

  private AuditCommand() {}

  /**
   * Runs the audit.
   *
   * @param args the arguments after {@code audit}
   * @param out where the report goes
   * @param err where usage errors go
   * @return the exit status: 0 pass, 1 a finding failed, 2 an input or argument error, 3 both 1 and 2
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    boolean colour = out == System.out && isTerminal() && noColorUnset();
    return run(args, out, err, Audit.Environment.system(), colour);
  }

  /** The parsed command line, or the reason it is wrong. */
  record CommandLine(String format, Audit.Request request, Path writeBaseline, boolean help, String problem) {}

  static CommandLine parse(String[] args) {
    String format = "text";
    List<String> probes = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    List<Path> layers = new ArrayList<>();
    List<List<Path>> pairs = new ArrayList<>();
    Set<String> writers = new LinkedHashSet<>();
    Set<String> readers = new LinkedHashSet<>();
    Set<Rule> skip = EnumSet.noneOf(Rule.class);
    Path baseline = null;
    Path writeBaseline = null;
    boolean options = true;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (options && (a.equals("-h") || a.equals("--help"))) {
        return new CommandLine(format, null, null, true, null);
      }
      if (options && a.equals("--")) {
        options = false;
        continue;
      }
      if (!options || !a.startsWith("--")) {
        files.add(Paths.get(a));
        continue;
      }
      String name = a;
      String value = null;
      int eq = a.indexOf('=');
      if (eq > 0) {
        name = a.substring(0, eq);
        value = a.substring(eq + 1);
      }
      if (!OPTIONS.contains(name)) {
        return problem("unknown option " + name);
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          return problem(name + " needs a value");
        }
        value = args[++i];
      }
      switch (name) {
        case "--format":
          if (!List.of("text", "json", "sarif").contains(value)) {
            return problem("--format must be text, json or sarif, not " + value);
          }
          format = value;
          break;
        case "--probe":
          probes.add(value);
          break;
        case "--config":
          layers.add(Paths.get(value));
          break;
        case "--pair":
          if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
            return problem("--pair needs two files: --pair SDK-FILE RECEIVER-FILE");
          }
          pairs.add(List.of(Paths.get(value), Paths.get(args[++i])));
          break;
        case "--writer-role":
          writers.add(value);
          break;
        case "--reader-role":
          readers.add(value);
          break;
        case "--baseline":
          baseline = Paths.get(value);
          break;
        case "--write-baseline":
          writeBaseline = Paths.get(value);
          break;
        default:
          try {
            skip.add(Rule.byId(value));
          } catch (IllegalArgumentException e) {
            return problem(e.getMessage());
          }
          break;
      }
    }
    if (files.isEmpty() && probes.isEmpty() && layers.isEmpty() && pairs.isEmpty()) {
      return problem("nothing to audit: give at least one FILE, FOLDER, --config FILE or --probe HOST:PORT");
    }
    Audit.Suppressions suppressions;
    try {
      suppressions = baseline == null ? Audit.Suppressions.none() : Baseline.read(baseline);
    } catch (IllegalArgumentException e) {
      return problem(e.getMessage());
    }
    Audit.Request request = new Audit.Request(files, layers.isEmpty() ? List.of() : List.of(layers), pairs, probes,
        skip, new Audit.Roles(writers, readers), suppressions);
    return new CommandLine(format, request, writeBaseline, false, null);
  }

  private static CommandLine problem(String why) {
    return new CommandLine(null, null, null, false, why);
  }

  static int run(String[] args, PrintStream out, PrintStream err, Audit.Environment env, boolean colour) {
    CommandLine cl = parse(args);
    if (cl.help()) {
      out.println(USAGE);
      out.println("Rules and fixes: docs/AUDIT.md. Exit 0 pass, 1 a finding failed, 2 input error, 3 both.");
      return 0;
    }
    if (cl.problem() != null) {
      return usage(err, cl.problem());
    }
    Audit.Result result = new Audit(env).run(cl.request());
    switch (cl.format()) {
      case "json":
        Reports.json(result, out);
        break;
      case "sarif":
        Reports.sarif(result, out);
        break;
      default:
        Reports.text(result, out, colour);
        break;
    }
    for (Audit.InputError e : result.errors()) {
      err.println("spillway audit: " + e.input() + ": " + e.reason());
    }
    if (cl.writeBaseline() != null) {
      try {
        Baseline.write(cl.writeBaseline(), result, env.clock());
      } catch (java.io.IOException e) {
        err.println("spillway audit: cannot write the baseline " + cl.writeBaseline() + ": " + e.getMessage());
        return 2;
      }
    }
    out.flush();
    return result.exitCode();
  }

  private static int usage(PrintStream err, String problem) {
    err.println("spillway audit: " + problem);
    err.println(USAGE);
    return 2;
  }

  private static boolean noColorUnset() {
    String v = System.getenv("NO_COLOR");
    return v == null || v.isEmpty();
  }

  /**
   * System.console() alone is not enough: from JDK 22 it is non-null even when output is
   * redirected, and {@code Console.isTerminal()} (22+) tells; on 17 a non-null console is a terminal.
   */
  private static boolean isTerminal() {
    Console c = System.console();
    if (c == null) {
      return false;
    }
    try {
      Method m = Console.class.getMethod("isTerminal");
      return (Boolean) m.invoke(c);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }
}
