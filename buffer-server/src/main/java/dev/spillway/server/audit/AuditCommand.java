package dev.spillway.server.audit;

import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * {@code spillway audit}: the reference article's verification checklist as a command.
 *
 * <pre>
 * spillway audit [--format text|json|sarif] [--probe HOST:PORT]... [--skip RULE-ID]... FILE...
 * </pre>
 *
 * <p>Each FILE is recognised by its content (and, for ties, its name): an OpenTelemetry Collector
 * config, an SDK environment file, a Tempo config, an IAM policy or a Spillway config. Spill, queue
 * and WAL directories named in them are looked up in {@code /proc/mounts} and {@code /sys/block}.
 * Each {@code --probe} connects to a live endpoint without a client certificate.
 *
 * <p>Exit status: 0 when no finding fails, 1 when any does, 2 when an input could not be read,
 * parsed, recognised or reached, or the command line is wrong. Rule ids and their rationale are in
 * docs/AUDIT.md. Stateless; each call is independent.
 */
public final class AuditCommand {

  static final String USAGE =
      "usage: spillway audit [--format text|json|sarif] [--probe HOST:PORT]... [--skip RULE-ID]... FILE...";

  private AuditCommand() {}

  /**
   * Runs the audit.
   *
   * @param args the arguments after {@code audit}
   * @param out where the report goes
   * @param err where usage errors go
   * @return the exit status: 0 pass, 1 a finding failed, 2 an input or argument error
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    boolean colour = out == System.out && isTerminal() && noColorUnset();
    return run(args, out, err, Audit.Environment.system(), colour);
  }

  static int run(String[] args, PrintStream out, PrintStream err, Audit.Environment env, boolean colour) {
    String format = "text";
    List<String> probes = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    Set<Rule> skip = EnumSet.noneOf(Rule.class);
    boolean options = true;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (options && (a.equals("-h") || a.equals("--help"))) {
        out.println(USAGE);
        out.println("Rules and fixes: docs/AUDIT.md. Exit 0 pass, 1 a finding failed, 2 input error.");
        return 0;
      }
      if (options && a.equals("--")) {
        options = false;
        continue;
      }
      if (options && a.startsWith("--")) {
        String name = a;
        String value = null;
        int eq = a.indexOf('=');
        if (eq > 0) {
          name = a.substring(0, eq);
          value = a.substring(eq + 1);
        }
        if (!name.equals("--format") && !name.equals("--probe") && !name.equals("--skip")) {
          return usage(err, "unknown option " + name);
        }
        if (value == null) {
          if (i + 1 >= args.length) {
            return usage(err, name + " needs a value");
          }
          value = args[++i];
        }
        switch (name) {
          case "--format":
            if (!List.of("text", "json", "sarif").contains(value)) {
              return usage(err, "--format must be text, json or sarif, not " + value);
            }
            format = value;
            break;
          case "--probe":
            probes.add(value);
            break;
          default:
            try {
              skip.add(Rule.byId(value));
            } catch (IllegalArgumentException e) {
              return usage(err, e.getMessage());
            }
            break;
        }
        continue;
      }
      files.add(Paths.get(a));
    }
    if (files.isEmpty() && probes.isEmpty()) {
      return usage(err, "nothing to audit: give at least one FILE or --probe HOST:PORT");
    }
    Audit.Result result = new Audit(env).run(files, probes, skip);
    switch (format) {
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
