package dev.spillway.server.testing;

import dev.spillway.server.Daemon;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;

/**
 * What a test prints when a daemon did not do what it waited for: the daemon's metrics (counters,
 * buffer gauges; never payload) and the stacks of its threads, so a rare failure explains itself.
 */
public final class Diagnostics {
  private static final int MAX_FRAMES = 30;

  private Diagnostics() {}

  public static String of(Daemon daemon) {
    StringBuilder b = new StringBuilder("\n===== daemon metrics =====\n");
    b.append(daemon.metrics().render());
    b.append("\n===== threads =====\n").append(threads());
    return b.toString();
  }

  /** Stacks of the daemon's threads (spillway, grpc, netty, chronicle), and whether a drain thread lives. */
  public static String threads() {
    StringBuilder b = new StringBuilder();
    ThreadInfo[] all = ManagementFactory.getThreadMXBean().dumpAllThreads(true, true);
    Arrays.sort(all, Comparator.comparing(ThreadInfo::getThreadName));
    boolean drain = false;
    for (ThreadInfo t : all) {
      String n = t.getThreadName().toLowerCase(Locale.ROOT);
      if (n.startsWith("spillway-drain")) {
        drain = true;
      }
      if (!(n.startsWith("spillway") || n.startsWith("grpc") || n.contains("netty") || n.contains("chronicle")
          || n.contains("eventloop"))) {
        continue;
      }
      b.append('"').append(t.getThreadName()).append("\" ").append(t.getThreadState());
      if (t.getLockName() != null) {
        b.append(" on ").append(t.getLockName());
      }
      if (t.getLockOwnerName() != null) {
        b.append(" owned by \"").append(t.getLockOwnerName()).append('"');
      }
      b.append('\n');
      StackTraceElement[] st = t.getStackTrace();
      for (int i = 0; i < Math.min(st.length, MAX_FRAMES); i++) {
        b.append("    at ").append(st[i]).append('\n');
      }
    }
    b.insert(0, "drain thread alive: " + drain + "\n");
    return b.toString();
  }
}
