package dev.spillway.server.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.BufferOpener;
import dev.spillway.server.Daemon;
import dev.spillway.server.Role;
import dev.spillway.server.testing.Diagnostics;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.AutoconfiguredSdk;
import dev.spillway.server.testing.TestPki;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end with the real OpenTelemetry Java SDK, configured only through the article's
 * OTEL_EXPORTER_OTLP_* settings, through the daemon (real SpillBuffer, real Chronicle files) to a
 * downstream receiver: downstream down → spans spill sealed (no canary on disk) → downstream back
 * → every span delivered.
 */
class SdkThroughDaemonTest {
  static final String CANARY = "CANARY-7f3a9c-user-token-do-not-store";
  static final int SPANS = 300;

  @TempDir Path dir;

  @Test
  void grpc_downstreamDown_spillsSealed_thenDeliversEverySpan() throws Exception {
    run("grpc");
  }

  @Test
  void httpProtobuf_downstreamDown_spillsSealed_thenDeliversEverySpan() throws Exception {
    run("http/protobuf");
  }

  private void run(String sdkProtocol) throws Exception {
    TestPki pki = new TestPki(dir.resolve("pki"));
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    Path spill = dir.resolve("spill");
    int downstreamPort = freePort();
    String exporter = "exporters:\n  otlp:\n    endpoint: https://127.0.0.1:" + downstreamPort + "\n"
        + "    tls:\n      ca_file: " + pki.ca + "\n      cert_file: " + pki.clientCert + "\n"
        + "      key_file: " + pki.clientKey + "\n"
        + "    retry_on_failure:\n      initial_interval: 50ms\n      max_interval: 200ms\n"
        + "      max_elapsed_time: 1s\n";
    // limit_mib 0: every batch is sealed to disk at once, so the spill is exercised for certain.
    String yaml = TestConfigs.daemon(pki, spill, keys, exporter, 4 << 20).replace("limit_mib: 8", "limit_mib: 0");
    try (Daemon daemon = Daemon.start(TestConfigs.load(dir, yaml), Role.BOTH, BufferOpener.spillBuffer())) {
      int port = sdkProtocol.equals("grpc") ? daemon.grpcPort() : daemon.httpPort();
      Set<String> sent = new HashSet<>();
      OpenTelemetrySdk sdk = sdk(port, sdkProtocol, pki);
      try {
        Tracer tracer = sdk.getTracer("e2e");
        for (int i = 0; i < SPANS; i++) {
          Span s = tracer.spanBuilder("op-" + i).startSpan();
          s.setAttribute(AttributeKey.stringKey("user.token"), CANARY);
          s.end();
          sent.add(s.getSpanContext().getSpanId());
        }
        assertThat(sdk.getSdkTracerProvider().forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
      } finally {
        sdk.shutdown().join(10, TimeUnit.SECONDS);
      }
      assertThat(daemon.metrics().spansReceived.sum()).isEqualTo(SPANS);
      assertThat(daemon.metrics().spansSpilled.sum()).isEqualTo(SPANS);
      assertThat(daemon.metrics().spansExported.sum()).isZero();

      // Downstream down: everything is on disk, sealed. The canary must not be there in any form
      // a grep would find.
      assertThat(filesContaining(spill, CANARY)).isEmpty();
      assertThat(filesContaining(spill, "op-1")).isEmpty();

      try (Downstream downstream = new Downstream(pki, downstreamPort)) {
        // If this ever times out (it once did on Java 25: nothing arrived in 60 s), the message
        // carries the daemon's metrics and thread stacks: a dead or stuck drain thread, a
        // blocked poll or export shows there.
        long t0 = System.nanoTime();
        boolean all = downstream.awaitSpans(SPANS, java.time.Duration.ofSeconds(60));
        assertThat(all).as(() -> downstream.spanIds.size() + " of " + SPANS + " spans arrived in "
            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms" + Diagnostics.of(daemon)).isTrue();
        // The downstream records spans before its answer reaches the daemon: bounded wait for the count.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (daemon.metrics().spansExported.sum() < SPANS && System.nanoTime() < deadline) {
          Thread.sleep(10); // no signal for a counter; 10 s at most
        }
        assertThat(downstream.spanIds).containsExactlyInAnyOrderElementsOf(sent);
        assertThat(daemon.metrics().spansExported.sum()).isEqualTo(SPANS);
        assertThat(daemon.metrics().exportFailures.sum() + daemon.metrics().exportRetries.sum()).isPositive();
        String prom = daemon.metrics().render();
        assertThat(prom).contains("spillway_spans_exported_total " + SPANS).contains("storage_write_latency_seconds_count");
      }
    }
    assertThat(filesContaining(spill, CANARY)).isEmpty();
  }

  @Test
  void filesContaining_findsPlaintextAcrossChunkBoundaries() throws Exception {
    Path f = dir.resolve("plain.bin");
    byte[] data = new byte[(1 << 20) + 100];
    byte[] c = CANARY.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(c, 0, data, (1 << 20) - 5, c.length); // straddles the first read
    Files.write(f, data);
    assertThat(filesContaining(dir, CANARY)).containsExactly(f);
  }

  private static OpenTelemetrySdk sdk(int port, String protocol, TestPki pki) {
    // The article's variables, with the SDK's defaults otherwise.
    return AutoconfiguredSdk.toDaemon(port, protocol, pki, Map.of("otel.exporter.otlp.insecure", "false"));
  }

  /** Streams every file under {@code root} (Chronicle files are large and sparse) for a string. */
  static Set<Path> filesContaining(Path root, String needle) throws IOException {
    byte[] n = needle.getBytes(StandardCharsets.UTF_8);
    Set<Path> hits = new HashSet<>();
    if (!Files.exists(root)) {
      return hits;
    }
    // walkFileTree, not Files.walk: the running daemon renames its checkpoint's temporary file
    // into place, and a file that vanishes between listing and reading is skipped, not an error.
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
        try {
          if (attrs.isRegularFile() && contains(f, n)) {
            hits.add(f);
          }
        } catch (NoSuchFileException renamedMeanwhile) {
          // see above
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }
    });
    return hits;
  }

  private static boolean contains(Path f, byte[] needle) throws IOException {
    byte[] buf = new byte[1 << 20];
    int carry = 0;
    try (var in = Files.newInputStream(f)) {
      int r;
      while ((r = in.read(buf, carry, buf.length - carry)) > 0) {
        int len = carry + r;
        if (indexOf(buf, len, needle) >= 0) {
          return true;
        }
        carry = Math.min(needle.length - 1, len);
        System.arraycopy(buf, len - carry, buf, 0, carry);
      }
    }
    return false;
  }

  private static int indexOf(byte[] hay, int len, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= len; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
