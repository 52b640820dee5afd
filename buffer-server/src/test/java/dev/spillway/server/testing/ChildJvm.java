package dev.spillway.server.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code java dev.spillway.server.Main ARGS} in a child JVM with this JVM's class path and module
 * flags. Its output (stdout and stderr) is collected line by line; {@link #awaitLine} waits on a
 * condition, bounded in time. {@link #close()} SIGKILLs a child that is still running.
 */
public final class ChildJvm implements AutoCloseable {
  private static final int MAX_LINES = 20_000;

  private final Process process;
  private final List<String> lines = new ArrayList<>(); // guarded by lock
  private final Object lock = new Object();
  private boolean ended; // guarded by lock

  private ChildJvm(Process process) {
    this.process = process;
    Thread pump = new Thread(this::pump, "child-jvm-output-" + process.pid());
    pump.setDaemon(true);
    pump.start();
  }

  /** Starts {@code Main} with {@code args}; {@code env} is added to this process's environment. */
  public static ChildJvm start(Map<String, String> env, String... args) throws IOException {
    return start(List.of(), env, System.getProperty("java.class.path"), args);
  }

  /**
   * As above, the java command preceded by {@code wrapper} (e.g. {@code setpriv ... --}) and with
   * {@code classPath} instead of this JVM's.
   */
  public static ChildJvm start(List<String> wrapper, Map<String, String> env, String classPath, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>(wrapper);
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (a.startsWith("--add-") || a.startsWith("--sun-misc") || a.startsWith("--enable-native")) {
        cmd.add(a);
      }
    }
    cmd.add("-Xmx256m");
    cmd.add("-cp");
    cmd.add(classPath);
    cmd.add("dev.spillway.server.Main");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    return new ChildJvm(pb.start());
  }

  private void pump() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) { // ends when the child exits and the pipe closes
        synchronized (lock) {
          if (lines.size() < MAX_LINES) {
            lines.add(line);
          }
          lock.notifyAll();
        }
      }
    } catch (IOException e) {
      // the child went away
    } finally {
      synchronized (lock) {
        ended = true;
        lock.notifyAll();
      }
    }
  }

  /**
   * Waits until a line matches {@code pattern}; returns the match. Fails with the child's output
   * when it does not come within {@code timeout} or the child exits first.
   */
  public Matcher awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int seen = 0;
    synchronized (lock) {
      while (true) {
        for (; seen < lines.size(); seen++) {
          Matcher m = pattern.matcher(lines.get(seen));
          if (m.find()) {
            return m;
          }
        }
        long left = deadline - System.nanoTime();
        if (ended || left <= 0) {
          throw new AssertionError((ended ? "the child exited" : "timed out after " + timeout)
              + " waiting for /" + pattern + "/; its output:\n" + String.join("\n", lines));
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
    }
  }

  /** SIGTERM. */
  public void terminate() {
    process.toHandle().destroy();
  }

  /** Waits for the exit code; SIGKILLs and fails after {@code timeout}. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the child did not exit within " + timeout + "; its output:\n" + output());
    }
    synchronized (lock) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!ended && System.nanoTime() < deadline) {
        TimeUnit.NANOSECONDS.timedWait(lock, Math.max(1, deadline - System.nanoTime()));
      }
    }
    return process.exitValue();
  }

  public String output() {
    synchronized (lock) {
      return String.join("\n", lines);
    }
  }

  public long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The ports from the daemon's "spillway ready" line: grpc, http, metrics (-1 when not running). */
  public int[] awaitReady(Duration timeout) throws InterruptedException {
    Matcher m = awaitLine(Pattern.compile("spillway ready .*ports grpc=(-?\\d+) http=(-?\\d+) metrics=(-?\\d+)"), timeout);
    return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
  }
}
