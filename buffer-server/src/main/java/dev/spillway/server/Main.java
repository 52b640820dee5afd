package dev.spillway.server;

import java.io.PrintStream;

/**
 * {@code java -jar spillway.jar COMMAND}. Sets {@code chronicle.analytics.disable} before anything
 * can load a Chronicle class, so the daemon never phones home.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.setProperty("chronicle.analytics.disable", "true");
    int code = new Cli(System.out, System.err).run(args);
    System.exit(code);
  }

  /** For tests and embedding: runs one command, returns its exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    System.setProperty("chronicle.analytics.disable", "true");
    return new Cli(out, err).run(args);
  }
}
