package dev.spillway.server.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.testing.TestClients;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's spill directory on a small tmpfs the test mounts (needs root; skipped loudly
 * elsewhere, but a failure to mount fails the test when CI=true). The downstream is down, so
 * everything accepted stays on disk; a filler file leaves little room. The daemon must answer
 * back-pressure (gRPC UNAVAILABLE, HTTP 503 with Retry-After), stay up, accept again once the
 * space returns, and deliver every acknowledged span when the downstream comes back.
 */
class DaemonDiskFullTest {
  @TempDir Path dir;
  Path mount;

  @BeforeEach
  void mountTmpfs() throws Exception {
    mount = dir.resolve("small-fs");
    Files.createDirectories(mount);
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=160m,mode=0700", "tmpfs", mount.toString())
        .redirectErrorStream(true).start();
    boolean ok = p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    if (!ok) {
      String why = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      System.err.println("*** DaemonDiskFullTest SKIPPED: cannot mount a tmpfs here (" + why + ")");
      Assumptions.assumeTrue(!"true".equals(System.getenv("CI")), "CI must be able to mount a tmpfs: " + why);
      Assumptions.abort("cannot mount a tmpfs: " + why);
    }
  }

  @AfterEach
  void unmount() throws Exception {
    new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor(20, TimeUnit.SECONDS);
  }

  @Test
  void spillDeviceFull_backPressureOnBothProtocols_noCrash_resumesWhenSpaceReturns() throws Exception {
    Rig rig = new Rig(dir);
    rig.spill = mount.resolve("spill");
    rig.maxDiskMib = 4096; // the device fills first, not the budget
    Path config = rig.writeConfig();
    // The daemon's free-space guard refuses appends below 64 MiB free: leave 96 MiB.
    Path filler = mount.resolve("filler");
    long free = Files.getFileStore(mount).getUsableSpace();
    byte[] chunk = new byte[1 << 20];
    try (var out = Files.newOutputStream(filler)) {
      for (long left = free - (96L << 20); left > 0; left -= chunk.length) {
        out.write(chunk, 0, (int) Math.min(chunk.length, left));
      }
    }
    try (RecordingDownstream downstream = new RecordingDownstream(rig.pki, rig.downstreamPort);
        DaemonProcess d = DaemonProcess.start(config, List.of("-Xmx256m"), Duration.ofSeconds(60));
        SpanClient client = new SpanClient(rig.grpcPort, rig.pki, 1, 50, 1000)) {
      // 1. fill: accepted until the device is nearly full, then UNAVAILABLE
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      int sent = 0;
      while (client.failures.get("UNAVAILABLE") == null && sent < 20_000 && System.nanoTime() < deadline) {
        client.sendOne();
        sent++;
      }
      String diag = "sent=" + sent + " ok=" + client.okRequests.get() + " failures=" + client.failures
          + " free=" + Files.getFileStore(mount).getUsableSpace() + "\n" + DaemonProcess.get(rig.metricsPort, "/metrics");
      assertThat(client.failures).as("gRPC answer once the device is full; %s; output:\n%s", diag, d.output())
          .containsKey("UNAVAILABLE");
      assertThat(client.okRequests.get()).isPositive();
      long acceptedWhenFull = client.acknowledged.size();

      // 2. HTTP answers 503 with Retry-After and a Status
      HttpClient http = TestClients.http(rig.pki.ca, rig.pki.clientCert, rig.pki.clientKey);
      HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + rig.httpPort + "/v1/traces"))
          .header("Content-Type", "application/x-protobuf").timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofByteArray(SpanClient.request(1L << 50, 50, 1000).toByteArray())).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("Retry-After")).hasValue("2");
      assertThat(com.google.rpc.Status.parseFrom(r.body()).getCode()).isEqualTo(com.google.rpc.Code.UNAVAILABLE_VALUE);
      assertThat(d.isAlive()).isTrue();
      String metrics = DaemonProcess.get(rig.metricsPort, "/metrics");
      assertThat(DaemonProcess.metric(metrics, "spillway_spans_refused_total")).isPositive();

      // 3. space returns: accepted again, without a restart
      Files.delete(filler);
      long resumeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      boolean resumed = false;
      while (!resumed && System.nanoTime() < resumeDeadline) {
        resumed = client.sendOne();
      }
      assertThat(resumed).as("accepts again after space returned; output:\n%s", d.output()).isTrue();
      for (int i = 0; i < 20; i++) {
        assertThat(client.sendOne()).isTrue();
      }

      // 4. downstream back: everything acknowledged arrives, nothing twice from this run
      downstream.start();
      assertThat(downstream.awaitAll(client.acknowledged, 120_000))
          .as("missing %d of %d; output:\n%s", downstream.missing(client.acknowledged), client.acknowledged.size(), d.output())
          .isTrue();
      assertThat(d.isAlive()).isTrue();
      System.out.println("RELIABILITY daemon-disk-full acceptedUntilFull=" + acceptedWhenFull
          + " spans, refusedRequests=" + client.failedRequests.get() + ", acknowledged=" + client.acknowledged.size()
          + ", delivered=" + downstream.deliveries.size() + ", duplicates=" + downstream.duplicates());
      assertThat(d.terminate(Duration.ofSeconds(30))).as(d.output()).isZero();
    }
  }
}
