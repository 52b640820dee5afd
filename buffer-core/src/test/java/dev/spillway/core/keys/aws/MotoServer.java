package dev.spillway.core.keys.aws;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyUsageType;

/**
 * A real moto KMS server ({@code moto_server}, from env SPILLWAY_MOTO_SERVER) as a child process
 * on 127.0.0.1 and a free port. One server serves the whole test run: JUnit closes it (it is
 * {@link AutoCloseable} in the root store) when the run ends. Outages are simulated by pausing the
 * process (SIGSTOP/SIGCONT), never by restarting it: moto keeps its keys in memory.
 *
 * <p>Without SPILLWAY_MOTO_SERVER the tests are skipped with a loud message, or fail when
 * CI=true.
 */
final class MotoServer implements AutoCloseable {
  static final String ENV = "SPILLWAY_MOTO_SERVER";
  static final String REGION = "us-east-1";
  static final StaticCredentialsProvider CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("spillway-test", "spillway-test"));
  private static final long START_TIMEOUT_SECONDS = 60;
  private static final int MAX_LOG_LINES = 200;

  private final Process process;
  private final int port;
  private final Deque<String> log = new ArrayDeque<>(); // guarded by itself
  private final KmsClient admin;

  private MotoServer(Process process, int port) {
    this.process = process;
    this.port = port;
    this.admin =
        KmsClient.builder()
            .region(Region.of(REGION))
            .endpointOverride(endpoint())
            .credentialsProvider(CREDENTIALS)
            .httpClientBuilder(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.builder())
            .build();
  }

  static MotoServer start() {
    String executable = System.getenv(ENV);
    if (executable == null || executable.isBlank()) {
      String message =
          "\n!!!!!!!! " + ENV + " is not set: the AWS KMS provider tests need a moto server"
              + " (python3 -m venv .venv && .venv/bin/pip install 'moto[server]>=5,<6';"
              + " export " + ENV + "=$PWD/.venv/bin/moto_server) !!!!!!!!\n";
      if ("true".equals(System.getenv("CI"))) {
        throw new IllegalStateException(message + "CI=true: moto is required in CI");
      }
      System.err.println(message + "SKIPPING the moto-backed KMS tests.");
      Assumptions.abort(ENV + " is not set; moto-backed KMS tests skipped");
    }
    int port = freePort();
    Process p;
    try {
      p = new ProcessBuilder(executable, "-H", "127.0.0.1", "-p", Integer.toString(port))
          .redirectErrorStream(true)
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + executable, e);
    }
    MotoServer server = new MotoServer(p, port);
    CountDownLatch ready = new CountDownLatch(1);
    Thread pump = new Thread(() -> server.pump(ready), "moto-output");
    pump.setDaemon(true);
    pump.start();
    Runtime.getRuntime().addShutdownHook(new Thread(server::stopProcess, "moto-stop"));
    try {
      if (!ready.await(START_TIMEOUT_SECONDS, TimeUnit.SECONDS) || !p.isAlive()) {
        server.close();
        throw new IllegalStateException(
            "moto did not start on port " + port + " within " + START_TIMEOUT_SECONDS + " s:\n" + server.logTail());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.close();
      throw new IllegalStateException("interrupted while waiting for moto", e);
    }
    return server;
  }

  /** Reads moto's output until it exits; counts down {@code ready} when it listens. */
  private void pump(CountDownLatch ready) {
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) { // ends when moto exits and the pipe closes
        synchronized (log) {
          log.addLast(line);
          if (log.size() > MAX_LOG_LINES) {
            log.removeFirst();
          }
        }
        if (line.contains("Running on http://127.0.0.1:" + port)) {
          ready.countDown();
        }
      }
    } catch (IOException e) {
      // the process went away; the waiter sees it
    } finally {
      ready.countDown(); // let a waiter notice an early exit at once
    }
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /** An {@link AwsKms} builder aimed at this server, with short, test-sized time-outs. */
  AwsKms.Builder kms() {
    return AwsKms.builder()
        .region(REGION)
        .endpointOverride(endpoint())
        .credentialsProvider(CREDENTIALS)
        .connectTimeout(java.time.Duration.ofMillis(500))
        .attemptTimeout(java.time.Duration.ofMillis(700))
        .callTimeout(java.time.Duration.ofMillis(1_500))
        .maxAttempts(2)
        .retryBackoff(java.time.Duration.ofMillis(20), java.time.Duration.ofMillis(100));
  }

  /** Creates a symmetric ENCRYPT_DECRYPT key; returns its ARN. */
  String createSymmetricKey() {
    return admin.createKey(b -> b.description("spillway test")).keyMetadata().arn();
  }

  /** Creates an RSA_3072 ENCRYPT_DECRYPT key; returns its ARN. */
  String createRsaKey() {
    return admin
        .createKey(b -> b.keySpec(KeySpec.RSA_3072).keyUsage(KeyUsageType.ENCRYPT_DECRYPT))
        .keyMetadata()
        .arn();
  }

  /** Points {@code alias/<name>} at {@code keyArn}. */
  void createAlias(String name, String keyArn) {
    admin.createAlias(b -> b.aliasName("alias/" + name).targetKeyId(keyArn));
  }

  /** SIGSTOP: moto stops answering; connections still open (the kernel queues them). */
  void pause() {
    signal("-STOP");
  }

  /** SIGCONT: moto answers again, keys intact. */
  void resume() {
    signal("-CONT");
  }

  private void signal(String sig) {
    List<String> command = List.of("kill", sig, Long.toString(process.pid()));
    try {
      Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        kill.destroyForcibly();
        throw new IllegalStateException(command + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted sending " + sig, e);
    }
  }

  String logTail() {
    synchronized (log) {
      return String.join("\n", log);
    }
  }

  @Override
  public void close() {
    admin.close();
    stopProcess();
  }

  private void stopProcess() {
    if (!process.isAlive()) {
      return;
    }
    try {
      signal("-CONT"); // a stopped process would not act on SIGTERM until continued
    } catch (RuntimeException e) {
      // already gone
    }
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on 127.0.0.1", e);
    }
  }

  /** Starts the shared server before a test class; injects it into test and lifecycle methods. */
  static final class Extension implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(MotoServer.class);

    @Override
    public void beforeAll(ExtensionContext context) {
      server(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
      return p.getParameter().getType() == MotoServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
      return server(e);
    }

    private static MotoServer server(ExtensionContext context) {
      return context.getRoot().getStore(NS)
          .getOrComputeIfAbsent(MotoServer.class, k -> start(), MotoServer.class);
    }
  }
}
