package dev.spillway.server.config;

import dev.spillway.core.Compression;
import dev.spillway.core.Durability;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.OverflowPolicy;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import dev.spillway.server.receive.OtlpWire;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.Optional;

/**
 * A validated daemon configuration. Built only by {@link ConfigLoader}; every value here has been
 * checked, so the daemon does not re-validate.
 *
 * @param source the file it came from, for log lines
 * @param warnings things an operator must see at every start (client_auth: none, insecure mode)
 * @param signals the signals the receivers accept ({@code service.pipelines}; all three without
 *     that block). The drain exports every batch in the buffer, whatever its signal.
 */
public record ServerConfig(
    String source,
    Optional<Receiver> grpc,
    Optional<Receiver> http,
    Buffer buffer,
    Exporter exporter,
    Metrics metrics,
    List<String> warnings,
    Set<OtlpWire.Signal> signals) {

  /** Accepting all three signals. */
  public ServerConfig(String source, Optional<Receiver> grpc, Optional<Receiver> http, Buffer buffer,
      Exporter exporter, Metrics metrics, List<String> warnings) {
    this(source, grpc, http, buffer, exporter, metrics, warnings, EnumSet.allOf(OtlpWire.Signal.class));
  }

  /**
   * One OTLP receiver.
   *
   * @param tls empty only in the development insecure mode (loopback only)
   * @param maxRequestBytes the largest request accepted, measured after decompression
   */
  /**
   * One OTLP receiver. {@code readTimeout} and {@code maxConnections} apply to the HTTP receiver
   * (gRPC bounds its streams itself): the whole request must arrive within {@code readTimeout}
   * (slow clients get 408), and connections beyond {@code maxConnections} are closed on arrival.
   */
  public record Receiver(
      String name,
      Endpoint endpoint,
      Optional<TlsSettings> tls,
      long maxRequestBytes,
      Duration readTimeout,
      int maxConnections) {
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;
  }

  /**
   * The spill buffer's settings; see buffer-core's SpillBufferBuilder for what each means.
   * {@code sharedGroup}: ingest and drain run as two OS users sharing the directory's group
   * (mode 2770, umask 007).
   */
  public record Buffer(
      Durability durability,
      long memoryLimitBytes,
      long spikeLimitBytes,
      Optional<Path> directory,
      long maxDiskBytes,
      FsyncPolicy fsync,
      Compression compression,
      OverflowPolicy overflow,
      Keys keys,
      boolean sharedGroup,
      dev.spillway.core.keys.DeploymentId deploymentId,
      Optional<KafkaSpill> kafka,
      Coalesce coalesce,
      int maxBatchBytes) {

    /**
     * {@code directory}: the local spill's; empty exactly when the spill is on Kafka ({@code kafka}).
     * {@code maxBatchBytes}: the largest batch the daemon offers, a receiver's largest request or a
     * coalesced record; the local spill is built for it ({@code SpillBufferBuilder.maxBatchBytes}),
     * which keeps its memory mapping no larger than that needs.
     */
    public Buffer {
      if (directory.isPresent() == kafka.isPresent()) {
        throw new IllegalArgumentException("a buffer spills to a local directory or to Kafka, exactly one of them"
            + " (directory " + directory + ", kafka " + kafka.map(k -> k.settings().topic()) + ")");
      }
      java.util.Objects.requireNonNull(coalesce, "coalesce");
    }

    /** With the default {@code maxBatchBytes}, {@link dev.spillway.core.SpillBuffer#DEFAULT_MAX_BATCH_BYTES}. */
    public Buffer(Durability durability, long memoryLimitBytes, long spikeLimitBytes, Optional<Path> directory,
        long maxDiskBytes, FsyncPolicy fsync, Compression compression, OverflowPolicy overflow, Keys keys,
        boolean sharedGroup, dev.spillway.core.keys.DeploymentId deploymentId, Optional<KafkaSpill> kafka,
        Coalesce coalesce) {
      this(durability, memoryLimitBytes, spikeLimitBytes, directory, maxDiskBytes, fsync, compression, overflow,
          keys, sharedGroup, deploymentId, kafka, coalesce, dev.spillway.core.SpillBuffer.DEFAULT_MAX_BATCH_BYTES);
    }

    /**
     * The largest request the spill can hold in one record, whatever its compression: a receiver
     * limit above this would accept requests that could never be kept.
     */
    public long recordLimitBytes() {
      return kafka.map(k -> (long) k.settings().maxBatchBytes()).orElse((long) dev.spillway.core.SpillBuffer.MAX_BATCH_BYTES);
    }

    /** Which spill {@link #recordLimitBytes} is about, for error messages. */
    public String spillName() {
      return kafka.isPresent() ? "the Kafka spill (buffer.spill.kafka.max_record_bytes)" : "the local spill";
    }

    /** These settings for a daemon whose largest batch is {@code bytes} (at most {@link #recordLimitBytes}). */
    public Buffer withMaxBatchBytes(long bytes) {
      if (bytes < 1 || bytes > recordLimitBytes()) {
        throw new IllegalArgumentException("a largest batch of " + bytes + " bytes is outside 1.." + recordLimitBytes());
      }
      return new Buffer(durability, memoryLimitBytes, spikeLimitBytes, directory, maxDiskBytes, fsync, compression,
          overflow, keys, sharedGroup, deploymentId, kafka, coalesce, (int) bytes);
    }

    /** With the default {@link Coalesce}. */
    public Buffer(Durability durability, long memoryLimitBytes, long spikeLimitBytes, Optional<Path> directory,
        long maxDiskBytes, FsyncPolicy fsync, Compression compression, OverflowPolicy overflow, Keys keys,
        boolean sharedGroup, dev.spillway.core.keys.DeploymentId deploymentId, Optional<KafkaSpill> kafka) {
      this(durability, memoryLimitBytes, spikeLimitBytes, directory, maxDiskBytes, fsync, compression, overflow,
          keys, sharedGroup, deploymentId, kafka, Coalesce.DEFAULT);
    }

    /** The settings of the local (Chronicle) spill, for a buffer without {@code backend: kafka}. */
    public Buffer(Durability durability, long memoryLimitBytes, long spikeLimitBytes, Path directory, long maxDiskBytes,
        FsyncPolicy fsync, Compression compression, OverflowPolicy overflow, Keys keys, boolean sharedGroup) {
      this(durability, memoryLimitBytes, spikeLimitBytes, Optional.of(directory), maxDiskBytes, fsync, compression,
          overflow, keys, sharedGroup, dev.spillway.core.keys.DeploymentId.UNNAMED, Optional.empty());
    }

    /** Where spilled batches go, for log lines: the directory, or the Kafka topic. */
    public String spillLocation() {
      return kafka.map(k -> "kafka topic " + k.settings().topic()).orElseGet(() -> "directory " + directory.orElseThrow());
    }
  }

  /**
   * {@code buffer.coalesce}: small requests of one signal offered together as one sealed record
   * (receive.CoalescingSpillWriter, docs/BENCHMARKS.md). Off when either value is 0.
   *
   * @param maxRequestBytes requests up to this size may be grouped; larger ones are offered alone
   * @param window how long the first request of a group waits at most for others, and only while
   *     another offer of its signal is in the buffer's hands
   * @param maxRecordBytes the largest combined record (also kept within the exporter's {@code
   *     send_batch_max_bytes} and {@code send_batch_max_size})
   * @param fullWindow {@code wait: window}: the first request of a group waits the whole window
   *     (or until the group is full) instead of only while another offer is in the buffer's hands
   */
  public record Coalesce(long maxRequestBytes, Duration window, long maxRecordBytes, boolean fullWindow) {
    public static final long DEFAULT_MAX_REQUEST_BYTES = 64L << 10;
    public static final Duration DEFAULT_WINDOW = Duration.ofMillis(2);
    public static final long DEFAULT_MAX_RECORD_BYTES = 1L << 20;
    public static final Coalesce DEFAULT =
        new Coalesce(DEFAULT_MAX_REQUEST_BYTES, DEFAULT_WINDOW, DEFAULT_MAX_RECORD_BYTES, false);
    public static final Coalesce OFF = new Coalesce(0, Duration.ZERO, DEFAULT_MAX_RECORD_BYTES, false);

    public Coalesce {
      java.util.Objects.requireNonNull(window, "window");
      if (maxRequestBytes < 0 || window.isNegative() || (maxRequestBytes > 0 && maxRecordBytes < maxRequestBytes)) {
        throw new IllegalArgumentException("coalesce: need max_request_bytes >= 0, window >= 0 and max_record_bytes"
            + " >= max_request_bytes, got " + maxRequestBytes + ", " + window + ", " + maxRecordBytes);
      }
    }

    public boolean enabled() {
      return maxRequestBytes > 0 && !window.isZero();
    }
  }

  /**
   * {@code buffer.spill.backend: kafka} with its {@code kafka} block (docs/SCALE-OUT.md): the
   * client settings and how long a durable offer waits for the brokers.
   */
  public record KafkaSpill(dev.spillway.kafka.KafkaSpillSettings settings, Duration offerTimeout) {}

  /**
   * {@code buffer.spill.keys}. With {@code local} the keysets; with {@code aws-kms} or {@code
   * aws-kms-rsa} the {@link Kms} block. {@code previousReaderKeysets} (any provider) open epochs
   * wrapped before a rotation or a move between providers.
   */
  public record Keys(
      String provider,
      Optional<Path> writerKeyset,
      Optional<Path> readerKeyset,
      Optional<Path> readerKeysetPassphraseFile,
      List<Path> previousReaderKeysets,
      Optional<Kms> kms,
      Optional<Path> signerKeyset,
      Optional<Path> verifierKeyset) {

    public Keys(String provider, Optional<Path> writerKeyset, Optional<Path> readerKeyset) {
      this(provider, writerKeyset, readerKeyset, Optional.empty(), List.of(), Optional.empty(),
          Optional.empty(), Optional.empty());
    }

    public boolean isKms() {
      return !provider.equals("local");
    }

    /** Whether anything here is private reader key material (what an ingest process must not hold). */
    public boolean holdsReaderKeyMaterial() {
      return readerKeyset.isPresent() || readerKeysetPassphraseFile.isPresent() || !previousReaderKeysets.isEmpty();
    }
  }

  /**
   * {@code buffer.spill.keys.kms}: the writer's key ({@code key_id}: id, ARN, alias), the reader's
   * key ARN, the ARNs of keys before a rotation (read side only), region, endpoint and time-outs.
   * Credentials come from the AWS SDK's default chain, never from this file.
   */
  public record Kms(
      Optional<String> keyId,
      Optional<String> keyArn,
      List<String> previousKeyArns,
      Optional<String> region,
      Optional<URI> endpoint,
      Duration connectTimeout,
      Duration attemptTimeout,
      Duration callTimeout,
      int maxAttempts) {}

  /** Which exporter drains the buffer: exactly one of {@code otlp} or the built-in debug one. */
  public record Exporter(Optional<Otlp> otlp) {
    public boolean debug() {
      return otlp.isEmpty();
    }
  }

  /** Transport to the downstream. */
  public enum Protocol {
    GRPC,
    HTTP_PROTOBUF
  }

  /**
   * {@code exporters.otlp_grpc} / {@code otlp_http} (or their older names).
   *
   * @param endpoint for gRPC the downstream; for HTTP the traces URL
   * @param maxRequestSpans {@code send_batch_max_size}: largest request in items (spans, data
   *     points, log records), 0 for no limit
   * @param maxRequestBytes {@code send_batch_max_bytes}: largest request in bytes before
   *     compression, 0 for no limit
   * @param httpEndpoints for HTTP, the URL of each signal: {@code endpoint} plus {@code
   *     /v1/<signal>}, or {@code traces_endpoint}, {@code metrics_endpoint}, {@code logs_endpoint}
   *     as the collector's otlphttp exporter has them; empty for gRPC
   * @param numConsumers {@code sending_queue.num_consumers}: exports in flight at once (the core
   *     drain's consumers), {@value #MIN_NUM_CONSUMERS}..{@value #MAX_NUM_CONSUMERS}
   */
  public record Otlp(
      URI endpoint,
      Protocol protocol,
      Map<String, String> headers,
      boolean gzip,
      Duration timeout,
      ClientTlsSettings tls,
      Retry retry,
      long maxRequestSpans,
      long maxRequestBytes,
      Map<OtlpWire.Signal, URI> httpEndpoints,
      int numConsumers) {
    /** The collector's default receive limit (4 MiB): a request within it passes a default downstream. */
    public static final long DEFAULT_MAX_REQUEST_BYTES = 4L << 20;
    /**
     * Exports in flight by default. One export at a time waits a round trip per batch and fell
     * behind the receivers with a healthy downstream (issue 19); 4 keep a downstream with some
     * latency busy without many idle threads (docs/BENCHMARKS.md has the figures).
     */
    public static final int DEFAULT_NUM_CONSUMERS = 4;
    public static final int MIN_NUM_CONSUMERS = 1;
    public static final int MAX_NUM_CONSUMERS = 64;

    public Otlp {
      if (numConsumers < MIN_NUM_CONSUMERS || numConsumers > MAX_NUM_CONSUMERS) {
        throw new IllegalArgumentException("numConsumers must be " + MIN_NUM_CONSUMERS + ".."
            + MAX_NUM_CONSUMERS + ", got " + numConsumers);
      }
    }

    /** With the default request size: no item limit, {@value #DEFAULT_MAX_REQUEST_BYTES} bytes. */
    public Otlp(URI endpoint, Protocol protocol, Map<String, String> headers, boolean gzip, Duration timeout,
        ClientTlsSettings tls, Retry retry) {
      this(endpoint, protocol, headers, gzip, timeout, tls, retry, 0, DEFAULT_MAX_REQUEST_BYTES);
    }

    /**
     * HTTP signal URLs derived from {@code endpoint} (the traces URL) by the signal's path, and the
     * default number of consumers.
     */
    public Otlp(URI endpoint, Protocol protocol, Map<String, String> headers, boolean gzip, Duration timeout,
        ClientTlsSettings tls, Retry retry, long maxRequestSpans, long maxRequestBytes) {
      this(endpoint, protocol, headers, gzip, timeout, tls, retry, maxRequestSpans, maxRequestBytes,
          protocol == Protocol.GRPC ? Map.of() : signalUrls(endpoint), DEFAULT_NUM_CONSUMERS);
    }

    /** Where a batch of this signal goes over HTTP. */
    public URI httpEndpoint(OtlpWire.Signal signal) {
      URI u = httpEndpoints.get(signal);
      return u != null ? u : endpoint;
    }

    /** {@code base/v1/traces}, {@code base/v1/metrics}, {@code base/v1/logs}; a base already ending in {@code /v1/traces} is cut first. */
    public static Map<OtlpWire.Signal, URI> signalUrls(URI endpoint) {
      String path = endpoint.getRawPath() == null ? "" : endpoint.getRawPath();
      if (path.endsWith("/v1/traces")) {
        path = path.substring(0, path.length() - "/v1/traces".length());
      }
      if (path.endsWith("/")) {
        path = path.substring(0, path.length() - 1);
      }
      Map<OtlpWire.Signal, URI> out = new EnumMap<>(OtlpWire.Signal.class);
      for (OtlpWire.Signal s : OtlpWire.Signal.values()) {
        out.put(s, endpoint.resolve(path + "/v1/" + s.label()));
      }
      return out;
    }
  }

  /** {@code retry_on_failure}; defaults from the article: 1s, 10s, 30s. */
  public record Retry(boolean enabled, Duration initialInterval, Duration maxInterval, Duration maxElapsedTime) {
    public static final Retry DEFAULT =
        new Retry(true, Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(30));
  }

  /**
   * {@code telemetry.metrics}: Prometheus text, /healthz and /readyz (no payload is served), and
   * the {@code readers} that push the same metrics over OTLP (none: no outbound connection).
   */
  public record Metrics(boolean enabled, Endpoint endpoint, Optional<TlsSettings> tls,
      java.util.List<MetricReaderSettings> readers) {
    public Metrics(boolean enabled, Endpoint endpoint, Optional<TlsSettings> tls) {
      this(enabled, endpoint, tls, java.util.List.of());
    }
  }
}
