package dev.spillway.server;

import dev.spillway.core.SpillWriter;
import dev.spillway.core.internal.seal.AesGcmWarmup;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.config.TlsSettings;
import dev.spillway.server.drain.DrainLoop;
import dev.spillway.server.export.OtlpExporter;
import dev.spillway.server.receive.OtlpGrpcReceiver;
import dev.spillway.server.receive.OtlpHttpReceiver;
import dev.spillway.server.receive.CoalescingSpillWriter;
import dev.spillway.server.receive.OtlpIngest;
import dev.spillway.server.telemetry.MetricsServer;
import dev.spillway.server.telemetry.OtlpMetricsPush;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.tls.ServerTlsContext;
import dev.spillway.server.tls.TlsReloader;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running daemon: receivers → buffer → drain loop → exporter, plus the metrics listener.
 * {@link #start} either returns a fully running daemon or fails having closed what it opened.
 * {@link #close()} is the orderly stop (SIGTERM): stop accepting, stop draining (an in-flight batch
 * is released), close the buffer (memory is sealed to disk), close the rest. Idempotent.
 */
public final class Daemon implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

  private final ServerMetrics metrics = new ServerMetrics();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean ready = new AtomicBoolean();
  private final List<AutoCloseable> closeLast = new ArrayList<>();
  private OtlpGrpcReceiver grpc;
  private OtlpHttpReceiver http;
  private DrainLoop drain;
  private OtlpExporter exporter;
  private BufferOpener.Opened buffer;
  private MetricsServer metricsServer;
  private OtlpMetricsPush metricsPush;
  private TlsReloader reloader;

  /** At most this long at startup to bring AES-GCM to compiled speed (it stops as soon as it is). */
  private static final Duration WARM_UP_BUDGET = Duration.ofSeconds(5);

  private Daemon() {}

  public static Daemon start(ServerConfig config, Role role, BufferOpener opener) throws IOException {
    Daemon d = new Daemon();
    try {
      d.startAll(config, role, opener);
      return d;
    } catch (IOException | RuntimeException e) {
      d.close();
      throw e;
    }
  }

  private void startAll(ServerConfig config, Role role, BufferOpener opener) throws IOException {
    for (String w : config.warnings()) {
      LOG.warn("{}", w);
    }
    // TLS first: a bad certificate path should fail before anything binds or opens.
    List<ServerTlsContext> contexts = new ArrayList<>();
    Optional<ServerTlsContext> grpcTls = Optional.empty();
    Optional<ServerTlsContext> httpTls = Optional.empty();
    boolean ingest = role != Role.DRAIN;
    if (ingest && config.grpc().isEmpty() && config.http().isEmpty()) {
      throw new IOException(config.source() + ": role " + role.configName() + " receives spans but the"
          + " configuration has no receivers block (receivers.otlp.protocols.grpc and/or http);"
          + " only --role drain runs without one");
    }
    if (ingest && config.grpc().isPresent() && config.grpc().get().tls().isPresent()) {
      grpcTls = Optional.of(tls("receivers.otlp.protocols.grpc.tls", config.grpc().get().tls().get(),
          ServerTlsContext.Alpn.GRPC, contexts));
    }
    if (ingest && config.http().isPresent() && config.http().get().tls().isPresent()) {
      httpTls = Optional.of(tls("receivers.otlp.protocols.http.tls", config.http().get().tls().get(),
          ServerTlsContext.Alpn.HTTP1, contexts));
    }
    Optional<ServerTlsContext> metricsTls = Optional.empty();
    if (config.metrics().tls().isPresent()) {
      metricsTls = Optional.of(tls("telemetry.metrics.tls", config.metrics().tls().get(),
          ServerTlsContext.Alpn.HTTP1, contexts));
    }

    // Its TLS files are checked here too, before the spill is opened; no readers, no connection.
    if (!config.metrics().readers().isEmpty()) {
      metricsPush = OtlpMetricsPush.start(config.metrics().readers(), metrics.registry(), role.configName());
    }

    // Before the first seal or open, and before any listener: a restart with a backlog would
    // otherwise drain it with AES-GCM running as cold Java for its first seconds.
    LOG.info("{}", AesGcmWarmup.run(WARM_UP_BUDGET));

    buffer = opener.open(config.buffer(), role, metrics);
    metrics.bufferMetrics(buffer.metrics());
    buffer.clientMetrics().forEach(metrics.registry()::register);

    if (role != Role.INGEST) {
      exporter = OtlpExporter.create(config.exporter(), metrics);
      ServerConfig.Retry retry = config.exporter().otlp().map(ServerConfig.Otlp::retry).orElse(ServerConfig.Retry.DEFAULT);
      int consumers = config.exporter().otlp().map(ServerConfig.Otlp::numConsumers).orElse(1);
      drain = new DrainLoop(buffer.reader().orElseThrow(), exporter, retry, consumers, metrics);
      drain.start();
      LOG.info("draining to {} ({} consumers)",
          config.exporter().otlp().map(o -> o.protocol() + " " + o.endpoint()).orElse("the debug exporter"), consumers);
    }
    if (ingest) {
      OtlpIngest ti = new OtlpIngest(ingestWriter(config, buffer.writer().orElseThrow()), metrics, config.signals(),
          config.source());
      LOG.info("accepting {} (service.pipelines)",
          config.signals().stream().map(dev.spillway.server.receive.OtlpWire.Signal::label).toList());
      if (config.grpc().isPresent()) {
        grpc = OtlpGrpcReceiver.start(config.grpc().get(), grpcTls, ti, metrics);
      }
      if (config.http().isPresent()) {
        http = OtlpHttpReceiver.start(config.http().get(), httpTls, ti, metrics);
      }
    }
    if (!contexts.isEmpty()) {
      reloader = new TlsReloader(contexts);
    }
    if (config.metrics().enabled()) {
      metricsServer = MetricsServer.start(config.metrics(), metricsTls, metrics,
          () -> drain == null || drain.isAlive(),
          // A dead drain exports nothing: not ready, so an orchestrator routes away and restarts.
          () -> ready.get() && (drain == null || drain.isAlive()));
      LOG.info("metrics, /healthz and /readyz on {}:{}", config.metrics().endpoint().host(), metricsServer.port());
    }
    ready.set(true);
    LOG.info("spillway ready (role {}, spill {}, ports grpc={} http={} metrics={})", role.configName(),
        config.buffer().spillLocation(), grpcPort(), httpPort(), metricsPort());
  }

  /**
   * The buffer's writer, behind a coalescer unless {@code buffer.coalesce} turns it off. A combined
   * record stays within the exporter's request limits, so the drain sends it whole and undecoded.
   * (The buffer is closed by {@link #close()} through {@link #buffer}, not through this writer.)
   */
  static SpillWriter ingestWriter(ServerConfig config, SpillWriter writer) {
    ServerConfig.Coalesce c = config.buffer().coalesce();
    if (!c.enabled()) {
      LOG.info("coalescing of small requests off (buffer.coalesce)");
      return writer;
    }
    long exportBytes = config.exporter().otlp().map(ServerConfig.Otlp::maxRequestBytes).orElse(0L);
    long exportItems = config.exporter().otlp().map(ServerConfig.Otlp::maxRequestSpans).orElse(0L);
    long maxRecord = exportBytes > 0 ? Math.min(c.maxRecordBytes(), exportBytes) : c.maxRecordBytes();
    long maxRequest = Math.min(c.maxRequestBytes(), maxRecord);
    LOG.info("coalescing requests up to {} bytes of one signal into records of at most {} bytes{}, waiting at most {} ms ({})",
        maxRequest, maxRecord, exportItems > 0 ? " and " + exportItems + " items" : "", c.window().toMillis(),
        c.fullWindow() ? "the whole window" : "only while the buffer is busy with another");
    return new CoalescingSpillWriter(writer, (int) maxRequest, c.window(), (int) maxRecord, exportItems, c.fullWindow());
  }

  private ServerTlsContext tls(String name, TlsSettings s, ServerTlsContext.Alpn alpn, List<ServerTlsContext> all)
      throws IOException {
    ServerTlsContext c = ServerTlsContext.open(name, s, alpn);
    c.onReload(metrics.tlsReloads::increment, metrics.tlsReloadFailures::increment);
    all.add(c);
    return c;
  }

  public ServerMetrics metrics() {
    return metrics;
  }

  public boolean ready() {
    return ready.get();
  }

  public int grpcPort() {
    return grpc == null ? -1 : grpc.port();
  }

  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  /** The OTLP push of the daemon's metrics, when {@code telemetry.metrics.readers} configures one. */
  public Optional<OtlpMetricsPush> metricsPush() {
    return Optional.ofNullable(metricsPush);
  }

  public int metricsPort() {
    return metricsServer == null ? -1 : metricsServer.port();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    ready.set(false);
    LOG.info("stopping: no new requests; sealing what memory holds to disk");
    Thread watchdog = stopWatchdog();
    // 1. stop accepting; in-flight requests finish (their offers complete before the buffer closes)
    if (grpc != null) {
      grpc.shutdown();
    }
    if (http != null) {
      http.stopAccepting();
    }
    quietly(grpc);
    quietly(http);
    // 2. stop draining (an in-flight batch is released back to the buffer)
    quietly(drain);
    // 3. seal memory to disk
    if (buffer != null) {
      try {
        buffer.close().run();
      } catch (RuntimeException e) {
        LOG.error("closing the buffer failed: {}", e.toString());
      }
    }
    quietly(exporter);
    quietly(reloader);
    quietly(metricsServer);
    quietly(metricsPush); // last: its final push carries the counts of the stop itself
    for (AutoCloseable c : closeLast) {
      quietly(c);
    }
    watchdog.interrupt();
    LOG.info("stopped");
  }

  /** Seconds an orderly stop may take before the watchdog logs every thread's stack. */
  static final int STOP_WATCHDOG_SECONDS = 20;

  /**
   * Logs all thread stacks if stopping takes longer than {@value #STOP_WATCHDOG_SECONDS} s, so a
   * slow or stuck stop explains itself. Stacks hold no payload bytes.
   */
  private static Thread stopWatchdog() {
    Thread t = new Thread(() -> {
      try {
        Thread.sleep(TimeUnit.SECONDS.toMillis(STOP_WATCHDOG_SECONDS));
      } catch (InterruptedException stoppedInTime) {
        return;
      }
      StringBuilder dump = new StringBuilder("stopping takes longer than " + STOP_WATCHDOG_SECONDS + " s; threads:");
      Thread.getAllStackTraces().forEach((thread, stack) -> {
        dump.append("\n\"").append(thread.getName()).append("\" ").append(thread.getState());
        for (StackTraceElement e : stack) {
          dump.append("\n    at ").append(e);
        }
      });
      LOG.warn(dump.toString());
    }, "spillway-stop-watchdog");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void quietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.warn("while stopping: {}", e.toString());
    }
  }
}
