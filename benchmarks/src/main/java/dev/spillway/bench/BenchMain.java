package dev.spillway.bench;

import dev.spillway.bench.loadgen.LoadGen;
import dev.spillway.bench.report.Renderer;
import java.util.Arrays;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * The benchmarks jar's entry point (docs/BENCHMARKS.md):
 *
 * <pre>
 * java -jar benchmarks.jar suite --short|--full [--out DIR] [--scratch DIR]
 * java -jar benchmarks.jar render --in DIR [--md FILE]
 * java -jar benchmarks.jar loadgen send|receive ...
 * java -jar benchmarks.jar [any JMH option]      (plain JMH, Chronicle's JVM flags appended)
 * </pre>
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    String cmd = args.length == 0 ? "" : args[0];
    String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
    switch (cmd) {
      case "suite" -> System.exit(Suite.run(rest));
      case "render" -> System.exit(Renderer.run(rest));
      case "loadgen" -> System.exit(LoadGen.run(rest));
      case "disk-rate" -> System.exit(DiskRate.run(rest));
      case "spans" -> {
        Suite.compression(BenchDirs.root());
        System.exit(0);
      }
      default -> runJmh(args);
    }
  }

  /** Plain JMH with its own command line, plus the forks' JVM flags. */
  static void runJmh(String[] args) throws Exception {
    CommandLineOptions cmd = new CommandLineOptions(args);
    if (cmd.shouldHelp() || cmd.shouldList() || cmd.shouldListWithParams() || cmd.shouldListProfilers()
        || cmd.shouldListResultFormats()) {
      org.openjdk.jmh.Main.main(args);
      return;
    }
    Options opts = new OptionsBuilder()
        .parent(cmd)
        .jvmArgsAppend(BenchFlags.forkJvmArgs().toArray(String[]::new))
        .build();
    new Runner(opts).run();
  }
}
