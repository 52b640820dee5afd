package dev.spillway.bench.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.server.tls.DevCertificates;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load generator sends each signal to the right OTLP service over mTLS, and its receiver
 * counts what arrived per signal: the per-signal figures of the benchmark rest on these counts.
 */
class LoadGenSignalsTest {
  @TempDir Path dir;

  @Test
  void send_eachSignal_arrivesAtTheReceiverCountedAsItsItems() throws Exception {
    DevCertificates.write(dir, Duration.ofDays(1));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path stats = dir.resolve("stats");
    Map<String, String> recv = Map.of("port", String.valueOf(port), "cert", dir.resolve("server.crt").toString(),
        "key", dir.resolve("server.key").toString(), "client-ca", dir.resolve("ca.crt").toString(),
        "stats", stats.toString(), "max-seconds", "30");
    Thread receiver = new Thread(() -> {
      try {
        LoadGen.receive(new HashMap<>(recv));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "loadgen-receive-test");
    receiver.setDaemon(true);
    receiver.start();

    Map<String, Long> sent = new HashMap<>();
    for (String signal : new String[] {"traces", "metrics", "logs"}) {
      Path out = dir.resolve(signal + ".result");
      Map<String, String> o = new HashMap<>(Map.of("target", "127.0.0.1:" + port,
          "ca", dir.resolve("ca.crt").toString(), "cert", dir.resolve("client.crt").toString(),
          "key", dir.resolve("client.key").toString(), "signal", signal, "connections", "1",
          "batch", "50", "duration", "0.5", "out", out.toString()));
      if (signal.equals("traces")) {
        o.put("unique-ids", "true"); // so the receiver tallies span ids, first and last arrival included
      }
      assertThat(LoadGen.send(o)).isZero();
      String result = Files.readString(out, StandardCharsets.UTF_8);
      assertThat(result).contains("signal=" + signal).contains("errors=0");
      String key = signal.equals("traces") ? "accepted_spans=" : "accepted_items=";
      long n = Long.parseLong(result.split(key)[1].split(" ")[0]);
      assertThat(n).as(signal).isPositive();
      sent.put(signal, n);
    }

    // The receiver writes its counts every 200 ms: wait (bounded) until they are all in.
    String[] f = new String[0];
    for (int i = 0; i < 50; i++) {
      f = Files.exists(stats) ? Files.readString(stats).trim().split(" ") : new String[0];
      if (f.length >= 10 && Long.parseLong(f[1]) == sent.get("traces")
          && Long.parseLong(f[7]) == sent.get("metrics") && Long.parseLong(f[8]) == sent.get("logs")) {
        break;
      }
      Thread.sleep(100);
    }
    assertThat(f).hasSize(10);
    assertThat(Long.parseLong(f[3])).as("unique span ids").isEqualTo(sent.get("traces"));
    assertThat(Long.parseLong(f[9])).as("first new span id, ms").isPositive().isLessThanOrEqualTo(Long.parseLong(f[6]));
    assertThat(Long.parseLong(f[1])).as("spans").isEqualTo(sent.get("traces"));
    assertThat(Long.parseLong(f[7])).as("metric points").isEqualTo(sent.get("metrics"));
    assertThat(Long.parseLong(f[8])).as("log records").isEqualTo(sent.get("logs"));
  }

  @Test
  void send_unknownSignal_isRefusedNamingTheChoices() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LoadSignal.of("profiles"))
        .hasMessageContaining("traces, metrics or logs").hasMessageContaining("profiles");
  }
}
