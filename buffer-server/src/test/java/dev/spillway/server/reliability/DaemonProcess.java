package dev.spillway.server.reliability;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real daemon ({@code dev.spillway.server.Main serve --config FILE}) in a child JVM with the
 * test classpath and Chronicle's flags ({@code spillway.jvm.flags}). Its output is read by a thread
 * (the last lines are kept for failure messages); {@link #kill()} is a SIGKILL through the process
 * handle, which keeps our end of the pipes open.
 */
final class DaemonProcess implements AutoCloseable {
  private static final int KEPT_LINES = 300;

  private final Process process;
  private final Deque<String> lines = new ArrayDeque<>();
  private final Object linesLock = new Object(); // guards lines
  private final CountDownLatch ready = new CountDownLatch(1);
  private final Thread reader;

  private DaemonProcess(Process process) {
    this.process = process;
    this.reader = new Thread(this::readOutput, "daemon-output-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts the daemon and waits until it logs that it is ready; fails with its output if not. */
  static DaemonProcess start(Path config, List<String> jvmOptions, Duration timeout) throws Exception {
    return start(config, "both", jvmOptions, timeout);
  }

  /** As {@link #start(Path, List, Duration)}, with {@code serve --role ROLE}. */
  static DaemonProcess start(Path config, String role, List<String> jvmOptions, Duration timeout) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String f : System.getProperty("spillway.jvm.flags", "").trim().split("\\s+")) {
      if (!f.isEmpty()) {
        cmd.add(f);
      }
    }
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.spillway.server.Main");
    cmd.add("serve");
    cmd.add("--role");
    cmd.add(role);
    cmd.add("--config");
    cmd.add(config.toString());
    DaemonProcess d = new DaemonProcess(new ProcessBuilder(cmd).redirectErrorStream(true).start());
    if (!d.ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      String out = d.output();
      d.kill();
      throw new AssertionError("the daemon did not become ready in " + timeout + "; its output:\n" + out);
    }
    return d;
  }

  private void readOutput() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        synchronized (linesLock) {
          lines.addLast(line);
          if (lines.size() > KEPT_LINES) {
            lines.removeFirst();
          }
        }
        if (line.contains("spillway ready")) {
          ready.countDown();
        }
      }
    } catch (IOException e) {
      // the process ended
    }
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String output() {
    synchronized (linesLock) {
      return String.join("\n", lines);
    }
  }

  /** SIGKILL, then waits for the exit. */
  void kill() throws InterruptedException {
    process.toHandle().destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("the daemon did not die after SIGKILL");
    }
    reader.join(5000);
  }

  /** SIGTERM (orderly stop); returns the exit code. */
  int terminate(Duration timeout) throws InterruptedException {
    process.toHandle().destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      kill();
      throw new AssertionError("the daemon did not stop on SIGTERM within " + timeout + ":\n" + output());
    }
    reader.join(5000);
    return process.exitValue();
  }

  /** VmRSS of the child in KiB, from /proc/PID/status. */
  long rssKib() throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("\\D", ""));
      }
    }
    throw new IOException("no VmRSS for " + pid());
  }

  private static final Pattern HEAP_USED = Pattern.compile("total[^\\n]*?, used (\\d+)K");

  /** Used Java heap in KiB after a full GC, from {@code jcmd PID GC.heap_info}. */
  long heapUsedKib(boolean gcFirst) throws Exception {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (gcFirst) {
      run(jcmd.toString(), Long.toString(pid()), "GC.run");
    }
    String out = run(jcmd.toString(), Long.toString(pid()), "GC.heap_info");
    Matcher m = HEAP_USED.matcher(out);
    long used = 0;
    boolean found = false;
    while (m.find()) { // G1: one heap line; Serial: one per generation (Java 17 and 25 word them differently)
      used += Long.parseLong(m.group(1));
      found = true;
    }
    if (!found) {
      throw new AssertionError("cannot read the heap from jcmd: " + out);
    }
    return used;
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + String.join(" ", cmd));
    }
    return out;
  }

  /** GET on the daemon's plaintext loopback metrics listener. */
  static String get(int port, String path) throws Exception {
    HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    return c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /** One sample value of a Prometheus text metric (the first line starting with {@code name}). */
  static double metric(String prometheus, String name) {
    for (String l : prometheus.split("\n")) {
      if (l.startsWith(name + " ") || l.startsWith(name + "{")) {
        return Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
      }
    }
    return Double.NaN;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
