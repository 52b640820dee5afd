package dev.spillway.core;

import dev.spillway.core.seal.PayloadType;
import java.io.IOException;
import java.time.Duration;

/** The buffer's machinery behind {@link SpillBuffer}. */
final class BufferEngine {
  static BufferEngine open(SpillBufferBuilder b, boolean write, boolean read) throws IOException {
    throw new UnsupportedOperationException("not yet");
  }

  OfferResult offer(PayloadType type, byte[] payload) {
    throw new UnsupportedOperationException("not yet");
  }

  Delivery poll(Duration timeout) throws InterruptedException {
    throw new UnsupportedOperationException("not yet");
  }

  BufferMetrics metrics() {
    throw new UnsupportedOperationException("not yet");
  }

  void purge() throws IOException {}

  void close() {}
}
