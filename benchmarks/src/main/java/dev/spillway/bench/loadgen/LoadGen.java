package dev.spillway.bench.loadgen;

import dev.spillway.bench.SpanFixtures;
import dev.spillway.core.export.internal.OtlpSpans;
import dev.spillway.core.export.internal.OtlpLogs;
import dev.spillway.core.export.internal.OtlpMetrics;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * OTLP/gRPC load over mTLS, built from the OpenTelemetry proto classes and grpc-netty (BoringSSL).
 *
 * <pre>
 * loadgen send --target HOST:PORT --ca CA --cert CRT --key KEY [--signal traces|metrics|logs]
 *              [--span-shape rich|telemetrygen] [--connections N] [--batch ITEMS]
 *              [--rate SPANS_PER_S (0 = flat out)] [--duration SECONDS] [--out FILE]
 *              [--unique-ids true [--first-connection N]]
 * loadgen receive --port PORT --cert CRT --key KEY [--client-ca CA] [--stats FILE] [--max-seconds S]
 *                 [--latency-ms MS]
 * </pre>
 *
 * <p>{@code send}: one blocking request in flight per connection; a fixed rate is split evenly
 * across connections and paced from a schedule. Latency is from sending a request to its answer
 * (not from its scheduled time: under overload a fixed-rate run reports lower accepted spans/s, not
 * higher latency). UNAVAILABLE and RESOURCE_EXHAUSTED answers are refusals (back-pressure); other
 * failures are errors. Prints one {@code RESULT} line of {@code key=value} and writes them to
 * {@code --out} as well, with the epoch milliseconds of the first request and of the end. Stops
 * after {@code --duration}. With {@code --unique-ids true} every span sent carries its own span id
 * ({@link SpanIdStamper}) and the request goes out as ready bytes, so a downstream stub can count
 * what was lost or delivered twice; {@code --first-connection N} numbers the connections' ids from
 * N (default 0), so a second run into the same stub sends ids of its own.
 *
 * <p>{@code --signal} picks the OTLP service and the fixture: spans, metric data points or log
 * records ({@link LoadSignal}); the RESULT line then counts {@code accepted_items} ({@code
 * accepted_spans} for traces, the key the harness scripts read). {@code --span-shape} picks the
 * spans: {@code rich} ({@link SpanFixtures#spans}, ~980 B each, the default) or {@code
 * telemetrygen} ({@link SpanFixtures#telemetrygenSpans}, ~150 B each).
 *
 * <p>{@code receive}: a downstream stub that accepts every request of all three signals, counts
 * spans, metric points and log records, and writes
 * "{@code epoch_ms total_spans total_requests unique_ids duplicate_ids foreign_ids last_new_ms
 * metric_points log_records first_new_ms}" to
 * {@code --stats} every 200 ms (ids as counted by {@link SpanIdTally}; {@code last_new_ms} and
 * {@code first_new_ms} are when the last and the first span id not seen before arrived, 0 before
 * any), and once more when it stops. Stops after
 * {@code --max-seconds} (default 600) or when killed. With {@code --latency-ms} it answers each
 * request that long after it arrived (counted on arrival), as a remote backend's round trip would:
 * an exporter with one request in flight then delivers at most one batch per round trip.
 */
public final class LoadGen {
  private LoadGen() {}

  public static int run(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: loadgen send|receive [options] (see docs/BENCHMARKS.md)");
      return 2;
    }
    Map<String, String> o = options(Arrays.copyOfRange(args, 1, args.length));
    return switch (args[0]) {
      case "send" -> send(o);
      case "receive" -> receive(o);
      default -> {
        System.err.println("loadgen: unknown mode " + args[0]);
        yield 2;
      }
    };
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> o = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value, got " + args[i]);
      }
      o.put(args[i].substring(2), args[++i]);
    }
    return o;
  }

  private static String need(Map<String, String> o, String k) {
    String v = o.get(k);
    if (v == null) {
      throw new IllegalArgumentException("--" + k + " is required");
    }
    return v;
  }

  // ---------------------------------------------------------------- send

  static int send(Map<String, String> o) throws Exception {
    String target = need(o, "target");
    int connections = Integer.parseInt(o.getOrDefault("connections", "4"));
    int batch = Integer.parseInt(o.getOrDefault("batch", "512"));
    double rate = Double.parseDouble(o.getOrDefault("rate", "0"));
    double duration = Double.parseDouble(o.getOrDefault("duration", "20"));
    if (duration <= 0 || duration > 3600 || connections < 1 || connections > 256 || batch < 1) {
      throw new IllegalArgumentException("duration must be in (0, 3600] s, connections in [1, 256], batch >= 1");
    }
    SslContext ssl = GrpcSslContexts.forClient()
        .trustManager(new File(need(o, "ca")))
        .keyManager(new File(need(o, "cert")), new File(need(o, "key")))
        .build();
    LoadSignal signal = LoadSignal.of(o.getOrDefault("signal", "traces"));
    String shape = o.getOrDefault("span-shape", "rich");
    if (!shape.equals("rich") && signal != LoadSignal.TRACES) {
      throw new IllegalArgumentException("--span-shape is for --signal traces");
    }
    // Spans are built only for traces; the other signals send their fixture's bytes.
    ExportTraceServiceRequest request = signal != LoadSignal.TRACES ? null : OtlpSpans.toRequest(switch (shape) {
      case "rich" -> SpanFixtures.spans(batch);
      case "telemetrygen" -> SpanFixtures.telemetrygenSpans(batch);
      default -> throw new IllegalArgumentException("--span-shape must be rich or telemetrygen, got " + shape);
    });
    byte[] requestBytes = signal == LoadSignal.TRACES ? request.toByteArray() : signal.request(batch);
    boolean uniqueIds = Boolean.parseBoolean(o.getOrDefault("unique-ids", "false"));
    int firstConnection = Integer.parseInt(o.getOrDefault("first-connection", "0"));
    if (firstConnection < 0 || firstConnection + connections > SpanIdStamper.MAX_CONNECTIONS) {
      throw new IllegalArgumentException("--first-connection plus --connections must be in [0, "
          + SpanIdStamper.MAX_CONNECTIONS + "], got " + firstConnection + " + " + connections);
    }
    if (uniqueIds && signal != LoadSignal.TRACES) {
      throw new IllegalArgumentException("--unique-ids counts span ids: it needs --signal traces");
    }
    String host = target.substring(0, target.lastIndexOf(':'));
    int port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));

    List<ManagedChannel> channels = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    AtomicLong accepted = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    List<long[]> latencies = new ArrayList<>();
    int[] counts = new int[connections];
    int maxSamples = 1 << 20;
    long startNanos = System.nanoTime();
    long startMillis = System.currentTimeMillis();
    long endNanos = startNanos + (long) (duration * 1e9);
    Map<String, AtomicLong> errorKinds = new java.util.concurrent.ConcurrentHashMap<>();
    for (int c = 0; c < connections; c++) {
      ManagedChannel ch = NettyChannelBuilder.forAddress(host, port)
          .sslContext(ssl)
          .maxInboundMessageSize(16 << 20)
          .build();
      channels.add(ch);
      long[] lat = new long[maxSamples];
      latencies.add(lat);
      int idx = c;
      double perConn = rate / connections;
      long intervalNanos = perConn > 0 ? (long) (batch / perConn * 1e9) : 0;
      SpanIdStamper stamper = uniqueIds ? new SpanIdStamper(request, firstConnection + c) : null;
      Thread t = new Thread(() -> {
        TraceServiceGrpc.TraceServiceBlockingStub stub = TraceServiceGrpc.newBlockingStub(ch);
        long next = System.nanoTime();
        while (true) {
          long now = System.nanoTime();
          if (now >= endNanos) {
            break;
          }
          if (intervalNanos > 0) {
            if (now < next) {
              LockSupport.parkNanos(Math.min(next - now, endNanos - now));
              continue;
            }
            next += intervalNanos;
          }
          long t0 = System.nanoTime();
          try {
            if (stamper != null) {
              ClientCalls.blockingUnaryCall(ch, signal.rawExport,
                  CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), stamper.next());
            } else if (signal != LoadSignal.TRACES) {
              ClientCalls.blockingUnaryCall(ch, signal.rawExport,
                  CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), requestBytes);
            } else {
              stub.withDeadlineAfter(10, TimeUnit.SECONDS).export(request);
            }
            accepted.addAndGet(batch);
            if (counts[idx] < maxSamples) {
              lat[counts[idx]++] = System.nanoTime() - t0;
            }
          } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.UNAVAILABLE && e.getStatus().getDescription() != null
                && e.getStatus().getDescription().toLowerCase(Locale.ROOT).contains("io exception")) {
              errors.incrementAndGet(); // connection failure, not back-pressure
              errorKinds.computeIfAbsent(code + ": " + e.getStatus().getDescription(), k -> new AtomicLong()).incrementAndGet();
              LockSupport.parkNanos(50_000_000L);
            } else if (code == Status.Code.UNAVAILABLE || code == Status.Code.RESOURCE_EXHAUSTED) {
              refused.incrementAndGet();
              LockSupport.parkNanos(10_000_000L); // a well-behaved client backs off a little
            } else {
              errors.incrementAndGet();
              errorKinds.computeIfAbsent(code + ": " + e.getStatus().getDescription(), k -> new AtomicLong()).incrementAndGet();
              LockSupport.parkNanos(50_000_000L);
            }
          }
        }
      }, "loadgen-" + c);
      threads.add(t);
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis((long) duration + 30));
    }
    double elapsed = (System.nanoTime() - startNanos) / 1e9;
    channels.forEach(ManagedChannel::shutdownNow);
    int total = 0;
    for (int c : counts) {
      total += c;
    }
    long[] all = new long[total];
    int k = 0;
    for (int c = 0; c < connections; c++) {
      System.arraycopy(latencies.get(c), 0, all, k, counts[c]);
      k += counts[c];
    }
    Arrays.sort(all);
    String result = String.format(Locale.ROOT,
        "RESULT signal=%s span_shape=%s connections=%d batch=%d rate=%.0f seconds=%.1f accepted_items=%d "
            + "accepted_items_per_s=%.0f request_bytes=%d requests_ok=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f refused_requests=%d errors=%d "
            + "unique_ids=%b start_ms=%d end_ms=%d",
        signal.configName(), signal == LoadSignal.TRACES ? shape : "-", connections, batch, rate, elapsed, accepted.get(), accepted.get() / elapsed,
        requestBytes.length, total,
        pct(all, 0.50), pct(all, 0.99), all.length == 0 ? Double.NaN : all[all.length - 1] / 1e6,
        refused.get(), errors.get(), uniqueIds, startMillis, System.currentTimeMillis());
    if (signal == LoadSignal.TRACES) { // the key the harness scripts read
      result = result.replace("accepted_items", "accepted_spans");
    }
    System.out.println(result);
    errorKinds.forEach((kind, n) -> System.out.println("ERROR " + n + " x " + kind));
    if (o.containsKey("out")) {
      Files.writeString(Path.of(o.get("out")), result + "\n", StandardCharsets.UTF_8);
    }
    return 0;
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
    return sorted[Math.max(0, i)] / 1e6;
  }

  // ---------------------------------------------------------------- receive

  static int receive(Map<String, String> o) throws Exception {
    int port = Integer.parseInt(need(o, "port"));
    long maxSeconds = Long.parseLong(o.getOrDefault("max-seconds", "600"));
    long latencyMs = Long.parseLong(o.getOrDefault("latency-ms", "0"));
    if (latencyMs < 0 || latencyMs > 60_000) {
      throw new IllegalArgumentException("--latency-ms must be in [0, 60000]");
    }
    java.util.concurrent.ScheduledExecutorService answers =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "loadgen-receive-answers");
          t.setDaemon(true);
          return t;
        });
    SslContextBuilder sb = GrpcSslContexts.configure(
        SslContextBuilder.forServer(new File(need(o, "cert")), new File(need(o, "key"))));
    if (o.containsKey("client-ca")) {
      sb.trustManager(new File(o.get("client-ca"))).clientAuth(ClientAuth.REQUIRE);
    }
    AtomicLong spans = new AtomicLong();
    AtomicLong requests = new AtomicLong();
    AtomicLong metricPoints = new AtomicLong();
    AtomicLong logRecords = new AtomicLong();
    SpanIdTally tally = new SpanIdTally();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .sslContext(sb.build())
        .maxInboundMessageSize(64 << 20)
        .addService(new TraceServiceGrpc.TraceServiceImplBase() {
          @Override
          public void export(ExportTraceServiceRequest req, StreamObserver<ExportTraceServiceResponse> out) {
            long n = 0;
            long now = System.currentTimeMillis();
            for (ResourceSpans rs : req.getResourceSpansList()) {
              for (ScopeSpans ss : rs.getScopeSpansList()) {
                n += ss.getSpansCount();
                for (Span s : ss.getSpansList()) {
                  tally.record(s.getSpanId(), now);
                }
              }
            }
            spans.addAndGet(n);
            requests.incrementAndGet();
            if (latencyMs == 0) {
              out.onNext(ExportTraceServiceResponse.getDefaultInstance());
              out.onCompleted();
            } else {
              answers.schedule(() -> {
                out.onNext(ExportTraceServiceResponse.getDefaultInstance());
                out.onCompleted();
              }, latencyMs, TimeUnit.MILLISECONDS);
            }
          }
        })
        .addService(new MetricsServiceGrpc.MetricsServiceImplBase() {
          @Override
          public void export(ExportMetricsServiceRequest req, StreamObserver<ExportMetricsServiceResponse> out) {
            metricPoints.addAndGet(OtlpMetrics.count(req));
            requests.incrementAndGet();
            out.onNext(ExportMetricsServiceResponse.getDefaultInstance());
            out.onCompleted();
          }
        })
        .addService(new LogsServiceGrpc.LogsServiceImplBase() {
          @Override
          public void export(ExportLogsServiceRequest req, StreamObserver<ExportLogsServiceResponse> out) {
            logRecords.addAndGet(OtlpLogs.count(req));
            requests.incrementAndGet();
            out.onNext(ExportLogsServiceResponse.getDefaultInstance());
            out.onCompleted();
          }
        })
        .build()
        .start();
    System.out.println("loadgen receive: listening on 127.0.0.1:" + port);
    Path stats = o.containsKey("stats") ? Path.of(o.get("stats")) : null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
    Supplier<String> statsLine = () -> System.currentTimeMillis() + " " + spans.get() + " " + requests.get() + " "
        + tally.summary() + " " + metricPoints.get() + " " + logRecords.get() + " " + tally.firstNewMillis() + "\n";
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdownNow();
      if (stats != null) {
        try { // the final counts, also when killed with SIGTERM
          writeStats(stats, statsLine.get());
        } catch (IOException e) {
          System.err.println("loadgen receive: cannot write " + stats + ": " + e.getMessage());
        }
      }
    }));
    while (System.nanoTime() < deadline) {
      Thread.sleep(200);
      if (stats != null) {
        writeStats(stats, statsLine.get());
      }
    }
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    return 0;
  }

  private static void writeStats(Path stats, String line) throws IOException {
    Path tmp = stats.resolveSibling(stats.getFileName() + ".tmp");
    Files.writeString(tmp, line, StandardCharsets.UTF_8);
    Files.move(tmp, stats, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }
}
