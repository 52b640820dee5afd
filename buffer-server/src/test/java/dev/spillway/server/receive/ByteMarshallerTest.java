package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ByteMarshallerTest {
  private static final byte[] MESSAGE = new byte[500_003];

  static {
    new Random(7).nextBytes(MESSAGE);
  }

  /** A stream over {@code bytes} that announces {@code announced} bytes, as grpc-java's message streams do. */
  private static final class Announcing extends ByteArrayInputStream implements KnownLength {
    private final int announced;
    private boolean asked;

    Announcing(byte[] bytes, int announced) {
      super(bytes);
      this.announced = announced;
    }

    @Override
    public synchronized int available() {
      if (asked) {
        return super.available();
      }
      asked = true;
      return announced;
    }
  }

  @Test
  void parse_knownLength_theExactBytes() {
    assertThat(ByteMarshaller.INSTANCE.parse(new Announcing(MESSAGE, MESSAGE.length))).isEqualTo(MESSAGE);
  }

  @Test
  void parse_knownLengthUnderstated_stillReadsItAll() {
    assertThat(ByteMarshaller.INSTANCE.parse(new Announcing(MESSAGE, 1_000))).isEqualTo(MESSAGE);
    assertThat(ByteMarshaller.INSTANCE.parse(new Announcing(MESSAGE, MESSAGE.length - 1))).isEqualTo(MESSAGE);
  }

  @Test
  void parse_knownLengthOverstated_returnsWhatThereIs() {
    assertThat(ByteMarshaller.INSTANCE.parse(new Announcing(MESSAGE, MESSAGE.length + 10))).isEqualTo(MESSAGE);
  }

  @Test
  void parse_emptyMessage_emptyArray() {
    assertThat(ByteMarshaller.INSTANCE.parse(new Announcing(new byte[0], 0))).isEmpty();
  }

  @Test
  void parse_streamOfUnknownLength_theExactBytes() {
    InputStream plain = new java.io.BufferedInputStream(new ByteArrayInputStream(MESSAGE));
    assertThat(ByteMarshaller.INSTANCE.parse(plain)).isEqualTo(MESSAGE);
  }

  @Test
  void parse_sizeLimitHitWhileInflating_isTooLarge() {
    InputStream inflating = new InputStream() {
      @Override
      public int read() {
        throw io.grpc.Status.RESOURCE_EXHAUSTED.withDescription("too large").asRuntimeException();
      }
    };
    assertThat(ByteMarshaller.INSTANCE.parse(inflating)).isSameAs(ByteMarshaller.TOO_LARGE);
  }
}
