package dev.spillway.server;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.BufferObserver;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.SpillReader;
import dev.spillway.core.SpillWriter;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.config.ServerConfig;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Supplier;

/** Opens the halves of the buffer a role needs. The daemon's seam to buffer-core. */
public interface BufferOpener {

  /**
   * What a role opened. {@code writer} and {@code reader} may be the same object (role both).
   *
   * @param close seals memory to disk and closes files; idempotent
   */
  record Opened(Optional<SpillWriter> writer, Optional<SpillReader> reader,
      Supplier<BufferMetrics> metrics, Runnable close) {}

  Opened open(ServerConfig.Buffer config, Role role, BufferObserver observer) throws IOException;

  /** The real one: a Chronicle-backed {@link SpillBuffer} with the local key provider. */
  static BufferOpener spillBuffer() {
    return (config, role, observer) -> {
      SpillBufferBuilder b = SpillBuffer.builder()
          .directory(config.directory())
          .durability(config.durability())
          .memoryLimitBytes(config.memoryLimitBytes())
          .maxDiskBytes(config.maxDiskBytes())
          .fsync(config.fsync())
          .compression(config.compression())
          .overflowPolicy(config.overflow())
          .observer(observer);
      if (config.spikeLimitBytes() >= 0) {
        b.spikeLimitBytes(config.spikeLimitBytes());
      }
      ServerConfig.Keys keys = config.keys();
      // Each role loads only its own key: an ingest process never holds the reader's private key.
      if (role != Role.DRAIN) {
        b.writerKeys(LocalKeys.issuer(keys.writerKeyset().orElseThrow(() -> new IOException(
            "buffer.spill.keys.writer_keyset is required for role " + role.configName()))));
      }
      if (role != Role.INGEST) {
        b.readerKeys(LocalKeys.unwrapper(keys.readerKeyset().orElseThrow(() -> new IOException(
            "buffer.spill.keys.reader_keyset is required for role " + role.configName()))));
      }
      switch (role) {
        case BOTH -> {
          SpillBuffer buf = b.build();
          return new Opened(Optional.of(buf), Optional.of(buf), buf::metrics, buf::close);
        }
        case INGEST -> {
          SpillWriter w = b.buildWriter();
          Supplier<BufferMetrics> m = w::metrics;
          return new Opened(Optional.of(w), Optional.empty(), m, w::close);
        }
        default -> {
          SpillReader r = b.buildReader();
          Supplier<BufferMetrics> m = r::metrics;
          return new Opened(Optional.empty(), Optional.of(r), m, r::close);
        }
      }
    };
  }
}
