package dev.spillway.core.internal.seal;

import java.util.Arrays;
import java.util.HexFormat;

/** Names one data-key epoch: a writer stream and an epoch number within it. */
public record EpochId(byte[] streamId, long epoch) {
  public EpochId {
    streamId = streamId.clone();
  }

  @Override
  public byte[] streamId() {
    return streamId.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EpochId e && e.epoch == epoch && Arrays.equals(e.streamId, streamId);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(streamId) + Long.hashCode(epoch);
  }

  @Override
  public String toString() {
    return HexFormat.of().formatHex(streamId) + "/" + epoch;
  }
}
