package dev.spillway.server;

import dev.spillway.core.Compression;
import dev.spillway.core.BufferMetrics;
import dev.spillway.core.BufferObserver;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.SpillReader;
import dev.spillway.core.SpillWriter;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.server.config.ServerConfig;
import io.prometheus.metrics.model.registry.MultiCollector;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens the halves of the buffer a role needs. The daemon's seam to buffer-core. */
public interface BufferOpener {

  /**
   * What a role opened. {@code writer} and {@code reader} may be the same object (role both).
   *
   * @param close seals memory to disk and closes files; idempotent
   * @param clientMetrics metrics of the storage's own clients (the Kafka spill's producer and
   *     consumer), registered beside the daemon's
   */
  record Opened(Optional<SpillWriter> writer, Optional<SpillReader> reader,
      Supplier<BufferMetrics> metrics, Runnable close, List<MultiCollector> clientMetrics) {
    public Opened {
      clientMetrics = List.copyOf(clientMetrics);
    }

    /** A storage without client metrics of its own (the local spill). */
    public Opened(Optional<SpillWriter> writer, Optional<SpillReader> reader, Supplier<BufferMetrics> metrics,
        Runnable close) {
      this(writer, reader, metrics, close, List.of());
    }
  }

  Opened open(ServerConfig.Buffer config, Role role, BufferObserver observer) throws IOException;

  /** The real one: a Chronicle-backed {@link SpillBuffer} with the configured key provider. */
  static BufferOpener spillBuffer() {
    return spillBuffer(System::getenv);
  }

  /** As {@link #spillBuffer()}, with {@code env} for {@code SPILLWAY_READER_KEYSET_PASSPHRASE}. */
  static BufferOpener spillBuffer(Function<String, String> env) {
    return (config, role, observer) -> {
      if (config.kafka().isPresent()) {
        return KafkaSpillOpener.open(config, config.kafka().get(), role, env);
      }
      SpillBufferBuilder b = SpillBuffer.builder()
          .directory(config.directory().orElseThrow())
          .durability(config.durability())
          .memoryLimitBytes(config.memoryLimitBytes())
          .maxBatchBytes(config.maxBatchBytes())
          .maxDiskBytes(config.maxDiskBytes())
          .fsync(config.fsync())
          .compression(config.compression())
          .overflowPolicy(config.overflow())
          .sharedGroup(config.sharedGroup())
          .deploymentId(config.deploymentId())
          .observer(observer);
      refuseToNarrowSharedDirectory(config);
      if (config.spikeLimitBytes() >= 0) {
        b.spikeLimitBytes(config.spikeLimitBytes());
      }
      // Each role loads only its own key: an ingest process never holds the reader's private key.
      Logger log = LoggerFactory.getLogger(BufferOpener.class);
      if (config.compression() == Compression.LZ4 && role != Role.DRAIN) {
        log.info("compression lz4 ({})", Codec.lz4Implementation());
      }
      SpillKeys keys = SpillKeys.open(config.keys(), role, env, w -> log.warn("{}", w));
      keys.issuer.ifPresent(b::writerKeys);
      keys.unwrapper.ifPresent(b::readerKeys);
      try {
        switch (role) {
          case BOTH -> {
            SpillBuffer buf = b.build();
            return new Opened(Optional.of(buf), Optional.of(buf), buf::metrics, closing(buf::close, keys));
          }
          case INGEST -> {
            SpillWriter w = b.buildWriter();
            Supplier<BufferMetrics> m = w::metrics;
            return new Opened(Optional.of(w), Optional.empty(), m, closing(w::close, keys));
          }
          default -> {
            SpillReader r = b.buildReader();
            Supplier<BufferMetrics> m = r::metrics;
            return new Opened(Optional.empty(), Optional.of(r), m, closing(r::close, keys));
          }
        }
      } catch (IOException | RuntimeException e) {
        keys.close();
        throw e;
      }
    };
  }

  /**
   * Without {@code shared_group} the buffer sets its directory to 0700. A directory an operator
   * made group-shared (2770, as ops/systemd/spillway-split.tmpfiles.conf does) belongs to a split
   * deployment: narrowing it would lock the other role out, so say what to set instead.
   */
  private static void refuseToNarrowSharedDirectory(ServerConfig.Buffer config) throws IOException {
    java.nio.file.Path dir = config.directory().orElseThrow();
    if (config.sharedGroup() || !java.nio.file.Files.isDirectory(dir)) {
      return;
    }
    java.util.Set<java.nio.file.attribute.PosixFilePermission> perms = java.nio.file.Files.getPosixFilePermissions(dir);
    if (perms.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)) {
      throw new IOException(dir + " is shared with its group (mode "
          + java.nio.file.attribute.PosixFilePermissions.toString(perms)
          + "): set buffer.spill.shared_group: true for ingest and drain as two users, or chmod 700 it"
          + " for a single process; it is not narrowed behind the other role's back");
    }
  }

  /** Closes the buffer first (sealing memory needs the writer's key), then the key provider. */
  private static Runnable closing(Runnable buffer, SpillKeys keys) {
    return () -> {
      try {
        buffer.run();
      } finally {
        keys.close();
      }
    };
  }
}
