package dev.spillway.server.config;

import dev.spillway.core.Durability;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.OverflowPolicy;
import dev.spillway.core.seal.Codec;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A validated daemon configuration. Built only by {@link ConfigLoader}; every value here has been
 * checked, so the daemon does not re-validate.
 *
 * @param source the file it came from, for log lines
 * @param warnings things an operator must see at every start (client_auth: none, insecure mode)
 */
public record ServerConfig(
    String source,
    Optional<Receiver> grpc,
    Optional<Receiver> http,
    Buffer buffer,
    Exporter exporter,
    Metrics metrics,
    List<String> warnings) {

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
      Path directory,
      long maxDiskBytes,
      FsyncPolicy fsync,
      Codec compression,
      OverflowPolicy overflow,
      Keys keys,
      boolean sharedGroup,
      dev.spillway.core.keys.DeploymentId deploymentId,
      Optional<KafkaSpill> kafka) {

    /** The settings of the local (Chronicle) spill, for a buffer without {@code backend: kafka}. */
    public Buffer(Durability durability, long memoryLimitBytes, long spikeLimitBytes, Path directory, long maxDiskBytes,
        FsyncPolicy fsync, Codec compression, OverflowPolicy overflow, Keys keys, boolean sharedGroup) {
      this(durability, memoryLimitBytes, spikeLimitBytes, directory, maxDiskBytes, fsync, compression, overflow, keys,
          sharedGroup, dev.spillway.core.keys.DeploymentId.UNNAMED, Optional.empty());
    }

    /** Where spilled batches go, for log lines: the directory, or the Kafka topic. */
    public String spillLocation() {
      return kafka.map(k -> "kafka topic " + k.settings().topic()).orElse("directory " + directory);
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
      Optional<Kms> kms) {

    public Keys(String provider, Optional<Path> writerKeyset, Optional<Path> readerKeyset) {
      this(provider, writerKeyset, readerKeyset, Optional.empty(), List.of(), Optional.empty());
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
   * @param maxRequestSpans {@code send_batch_max_size}: largest request in spans, 0 for no limit
   * @param maxRequestBytes {@code send_batch_max_bytes}: largest request in bytes before
   *     compression, 0 for no limit
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
      long maxRequestBytes) {
    /** The collector's default receive limit (4 MiB): a request within it passes a default downstream. */
    public static final long DEFAULT_MAX_REQUEST_BYTES = 4L << 20;

    /** With the default request size: no span limit, {@value #DEFAULT_MAX_REQUEST_BYTES} bytes. */
    public Otlp(URI endpoint, Protocol protocol, Map<String, String> headers, boolean gzip, Duration timeout,
        ClientTlsSettings tls, Retry retry) {
      this(endpoint, protocol, headers, gzip, timeout, tls, retry, 0, DEFAULT_MAX_REQUEST_BYTES);
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
