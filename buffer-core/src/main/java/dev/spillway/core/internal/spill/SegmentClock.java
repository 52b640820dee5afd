package dev.spillway.core.internal.spill;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import net.openhft.chronicle.core.time.TimeProvider;

/**
 * Chronicle rolls to a new cycle file when its clock says so. Spillway decides instead: this clock
 * reports "the middle of segment N", where N is a number kept in a small memory-mapped file shared
 * by the writer and reader processes. Only the writer moves it, under its append lock, right
 * before it writes the key record that opens the new segment; so a segment never starts with a
 * batch whose key record lives in another file, and deleting old segments never strands a key.
 */
final class SegmentClock implements TimeProvider, AutoCloseable {
  static final String FILE = "spillway.segment";
  private static final VarHandle LONG =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private final long cycleMillis;
  private final FileChannel channel;
  private final MappedByteBuffer map;

  SegmentClock(Path dir, long cycleMillis) throws IOException {
    this.cycleMillis = cycleMillis;
    this.channel =
        FileChannel.open(
            dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    this.map = channel.map(FileChannel.MapMode.READ_WRITE, 0, Long.BYTES);
  }

  /** The segment appends go to; 0 if no writer ever set one. */
  long segment() {
    return (long) LONG.getVolatile(map, 0);
  }

  void setSegment(long segment) {
    LONG.setVolatile(map, 0, segment);
  }

  /** Forces the segment number to disk, so a restarted writer never reuses a segment. */
  void force() {
    map.force();
  }

  @Override
  public long currentTimeMillis() {
    return segment() * cycleMillis + cycleMillis / 2;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
