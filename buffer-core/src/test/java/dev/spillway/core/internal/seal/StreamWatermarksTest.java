package dev.spillway.core.internal.seal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class StreamWatermarksTest {
  static byte[] stream(int i) {
    return ByteBuffer.allocate(16).putInt(12, i).array();
  }

  static StreamWatermarks read(byte[] b) throws WatermarkFormatException {
    return StreamWatermarks.fromBytes(b, "watermarks.bin", StreamWatermarks.DEFAULT_RETIRE_AFTER, 4096);
  }

  @Test
  void check_atOrBelowTheLastAccepted_isOutOfOrder() throws Exception {
    StreamWatermarks w = new StreamWatermarks();
    w.advance(stream(1), 4, 1000);
    assertThatThrownBy(() -> w.check(stream(1), 4, 1000)).isInstanceOf(OutOfOrderRecordException.class);
    assertThatThrownBy(() -> w.check(stream(1), 0, 1000)).isInstanceOf(OutOfOrderRecordException.class);
    assertThat(w.check(stream(1), 5, 1001)).isEqualTo(new StreamWatermarks.Check(0, false));
    assertThat(w.check(stream(1), 9, 1001)).isEqualTo(new StreamWatermarks.Check(4, false));
    assertThat(w.check(stream(2), 3, 1001)).isEqualTo(new StreamWatermarks.Check(3, true));
  }

  @Test
  void toBytes_thenFromBytes_keepsEveryStreamAndTheRetirementFloor() throws Exception {
    StreamWatermarks w = new StreamWatermarks(Duration.ofMillis(100), 3);
    for (int i = 0; i < 5; i++) {
      w.advance(stream(i), i * 10L, 1000 + i);
    }
    assertThat(w.streams()).isEqualTo(3);
    assertThat(w.retiredBefore()).isEqualTo(1001);
    StreamWatermarks r = StreamWatermarks.fromBytes(w.toBytes(), "t", Duration.ofMillis(100), 3);
    assertThat(r.toBytes()).isEqualTo(w.toBytes());
    assertThat(r.lastSequence(stream(4))).hasValue(40);
    assertThat(r.lastSequence(stream(0))).isEmpty();
    assertThatThrownBy(() -> r.check(stream(1), 11, 1001)).isInstanceOf(OutOfOrderRecordException.class);
    assertThat(r.check(stream(9), 0, 1002).firstOfStream()).isTrue();
  }

  @Test
  void advance_silentStream_isRetiredByAgeNotByActivityOfItself() {
    StreamWatermarks w = new StreamWatermarks(Duration.ofHours(1), 4096);
    w.advance(stream(1), 0, 0);
    w.advance(stream(2), 0, Duration.ofMinutes(59).toMillis());
    assertThat(w.streams()).isEqualTo(2);
    w.advance(stream(2), 1, Duration.ofMinutes(61).toMillis());
    assertThat(w.streams()).isEqualTo(1);
    assertThat(w.lastSequence(stream(1))).isEmpty();
    assertThat(w.retiredBefore()).isZero();
  }

  @Test
  void advance_manyStreams_staysBoundedAndRetiresTheLeastRecent() {
    StreamWatermarks w = new StreamWatermarks(Duration.ofDays(7), 100);
    for (int i = 0; i < 10_000; i++) {
      w.advance(stream(i), 0, i);
    }
    assertThat(w.streams()).isEqualTo(100);
    assertThat(w.toBytes().length).isEqualTo(StreamWatermarks.HEADER + 100 * StreamWatermarks.ENTRY + 4);
    assertThat(w.lastSequence(stream(9_999))).hasValue(0);
    assertThat(w.lastSequence(stream(9_899))).isEmpty();
  }

  @Test
  void fromBytes_everyTruncation_isANamedFormatError() {
    StreamWatermarks w = new StreamWatermarks();
    w.advance(stream(1), 3, 10);
    byte[] b = w.toBytes();
    for (int n = 0; n < b.length; n++) {
      byte[] cut = java.util.Arrays.copyOf(b, n);
      assertThatThrownBy(() -> read(cut))
          .isInstanceOf(WatermarkFormatException.class)
          .hasMessageStartingWith("watermarks.bin: ");
    }
  }

  @Test
  void fromBytes_anyBitFlipped_isRefused() {
    StreamWatermarks w = new StreamWatermarks();
    w.advance(stream(1), 3, 10);
    w.advance(stream(2), 7, 11);
    byte[] b = w.toBytes();
    for (int bit = 0; bit < b.length * 8; bit++) {
      byte[] f = b.clone();
      f[bit / 8] ^= (byte) (1 << (bit % 8));
      assertThatThrownBy(() -> read(f)).as("bit %d", bit).isInstanceOf(WatermarkFormatException.class);
    }
  }

  @Test
  void fromBytes_namesTheFault() {
    assertThatThrownBy(() -> read("not a watermark table at all, no".getBytes()))
        .hasMessageContaining("magic");
    StreamWatermarks w = new StreamWatermarks();
    byte[] b = w.toBytes();
    b[4] = 9;
    assertThatThrownBy(() -> read(b)).hasMessageContaining("format 9");
  }

  @Test
  void writeTo_thenReadFrom_roundTripsAndAMissingFileIsAnEmptyTable(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws Exception {
    java.nio.file.Path file = tmp.resolve("watermarks.bin");
    assertThat(StreamWatermarks.readFrom(file, Duration.ofDays(7), 10).streams()).isZero();
    StreamWatermarks w = new StreamWatermarks();
    w.advance(stream(1), 5, 100);
    w.writeTo(file);
    assertThat(java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(StreamWatermarks.readFrom(file, Duration.ofDays(7), 10).lastSequence(stream(1))).hasValue(5);
    java.nio.file.Files.write(file, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> StreamWatermarks.readFrom(file, Duration.ofDays(7), 10))
        .isInstanceOf(WatermarkFormatException.class)
        .hasMessageContaining(file.toString());
  }
}
