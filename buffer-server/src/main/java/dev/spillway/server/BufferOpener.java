package dev.spillway.server;

import dev.spillway.core.BufferMetrics;
import dev.spillway.core.BufferObserver;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.SpillReader;
import dev.spillway.core.SpillWriter;
import dev.spillway.core.seal.Codec;
import dev.spillway.server.config.ServerConfig;
import java.io.IOException;
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
   */
  record Opened(Optional<SpillWriter> writer, Optional<SpillReader> reader,
      Supplier<BufferMetrics> metrics, Runnable close) {}

  Opened open(ServerConfig.Buffer config, Role role, BufferObserver observer) throws IOException;

  /** The real one: a Chronicle-backed {@link SpillBuffer} with the configured key provider. */
  static BufferOpener spillBuffer() {
    return spillBuffer(System::getenv);
  }

  /** As {@link #spillBuffer()}, with {@code env} for {@code SPILLWAY_READER_KEYSET_PASSPHRASE}. */
  static BufferOpener spillBuffer(Function<String, String> env) {
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
      // Each role loads only its own key: an ingest process never holds the reader's private key.
      Logger log = LoggerFactory.getLogger(BufferOpener.class);
      if (config.compression() == Codec.LZ4 && role != Role.DRAIN) {
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
