package dev.spillway.server;

import java.io.PrintStream;

/**
 * {@code java -jar spillway.jar COMMAND}. Sets {@code chronicle.analytics.disable} before anything
 * can load a Chronicle class, so the daemon never phones home.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    quietChronicle();
    int code = new Cli(System.out, System.err).run(args);
    System.exit(code);
  }

  private static void quietChronicle() {
    System.setProperty("chronicle.analytics.disable", "true");
    System.setProperty("chronicle.announcer.disable", "true");
    // grpc-java logs through java.util.logging: into the same Logback lines (timestamps, JSON).
    if (!org.slf4j.bridge.SLF4JBridgeHandler.isInstalled()) {
      org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
      org.slf4j.bridge.SLF4JBridgeHandler.install();
    }
  }

  /** For tests and embedding: runs one command, returns its exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    quietChronicle();
    return new Cli(out, err).run(args);
  }
}
