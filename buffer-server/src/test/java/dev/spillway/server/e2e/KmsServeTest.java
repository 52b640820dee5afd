package dev.spillway.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.Main;
import dev.spillway.server.testing.ChildJvm;
import dev.spillway.server.testing.Moto;
import dev.spillway.server.testing.TestClients;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buffer.spill.keys.provider: aws-kms} through the CLI, against a real moto KMS: a child JVM
 * seals every batch under a data key from GenerateDataKey, SIGTERM leaves them on disk, {@code
 * spill inspect} shows epochs of provider aws-kms naming the key ARN, and a restarted daemon
 * unwraps them with Decrypt and delivers every span.
 */
class KmsServeTest {
  static final String CANARY = "CANARY-kms-serve-5120";
  static final Duration START = Duration.ofSeconds(90);

  @TempDir Path dir;

  @Test
  void awsKms_spillsUnderTheKey_thenRestartDecryptsAndDeliversEverySpan() throws Exception {
    try (Moto moto = Moto.start()) {
      String arn = moto.createSymmetricKey();
      TestPki pki = new TestPki(dir.resolve("pki"));
      Path spill = dir.resolve("spill");
      int downstreamPort = freePort();
      String keys = "    keys:\n      provider: aws-kms\n      kms:\n"
          + "        key_arn: " + arn + "\n"
          + "        endpoint: " + moto.endpoint() + "\n"
          + "        timeout: 3s\n";
      String yaml = TestConfigs.daemon(pki, spill, keys, TestConfigs.exporter(pki, "grpc", downstreamPort), 1 << 20)
          .replace("limit_mib: 8", "limit_mib: 0");
      Path cfg = dir.resolve("spillway.yaml");
      Files.writeString(cfg, yaml);

      int batches = 5;
      int spansPerBatch = 4;
      try (ChildJvm daemon = ChildJvm.start(Moto.CREDENTIALS_ENV, "serve", "--config", cfg.toString(), "--insecure-dev")) {
        int[] ports = daemon.awaitReady(START);
        ManagedChannel ch = TestClients.grpc(ports[0], pki.ca, pki.clientCert, pki.clientKey);
        try {
          for (int b = 0; b < batches; b++) {
            // The first batch may meet back-pressure until GenerateDataKey answered: retry as a client does.
            TestClients.exportRetrying(ch, TestClients.request(spansPerBatch, CANARY, b));
          }
        } finally {
          ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        daemon.terminate();
        assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(daemon::output).isZero();
        assertThat(daemon.output()).contains("PLAINTEXT (insecure development mode)").doesNotContain(CANARY);
      }

      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int code = Main.run(new String[] {"spill", "inspect", "--dir", spill.toString()},
          new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8));
      String report = out.toString(StandardCharsets.UTF_8);
      assertThat(code).as(report).isZero();
      assertThat(report).contains(batches + " batch(es)").contains("provider=aws-kms key=" + arn);
      assertThat(SdkThroughDaemonTest.filesContaining(spill, CANARY)).isEmpty();

      try (Downstream downstream = new Downstream(pki, downstreamPort);
          ChildJvm daemon = ChildJvm.start(Moto.CREDENTIALS_ENV, "serve", "--config", cfg.toString(), "--insecure-dev")) {
        daemon.awaitReady(START);
        assertThat(downstream.awaitSpans(batches * spansPerBatch, Duration.ofSeconds(60)))
            .as(daemon::output).isTrue();
        assertThat(downstream.spanIds).hasSize(batches * spansPerBatch);
        daemon.terminate();
        assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isZero();
      }
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
