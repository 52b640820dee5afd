package dev.spillway.server.receive;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Passes a gRPC message through as bytes, so the daemon parses it itself: an undecodable request
 * then gets INVALID_ARGUMENT (the OTLP spec) instead of grpc-java's INTERNAL, and the exact bytes
 * the client sent are what the buffer stores. grpc-java has already enforced the size limit, after
 * decompression, before this runs.
 */
public final class ByteMarshaller implements MethodDescriptor.Marshaller<byte[]> {
  public static final ByteMarshaller INSTANCE = new ByteMarshaller();

  /**
   * Returned (compared by identity) when a compressed message inflates past the size limit.
   * grpc-java enforces the limit while this marshaller reads, and would turn the exception into
   * UNKNOWN; the receiver answers RESOURCE_EXHAUSTED instead, as the OTLP spec asks.
   */
  static final byte[] TOO_LARGE = new byte[0];

  private ByteMarshaller() {}

  @Override
  public InputStream stream(byte[] value) {
    return new ByteArrayInputStream(value);
  }

  @Override
  public byte[] parse(InputStream stream) {
    try {
      return stream instanceof KnownLength ? readKnownLength(stream) : stream.readAllBytes();
    } catch (io.grpc.StatusRuntimeException e) {
      if (e.getStatus().getCode() == io.grpc.Status.Code.RESOURCE_EXHAUSTED) {
        return TOO_LARGE;
      }
      throw e;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * An uncompressed message comes as a stream that knows its length (grpc-java checked it against
   * the size limit already): one array of that size and one copy, where {@code readAllBytes}
   * reads 8 KiB pieces and copies them all again into the result (two copies and ~60 allocations
   * for a 500 KB request). A stream that holds more or less than it announced is still read whole.
   */
  static byte[] readKnownLength(InputStream stream) throws IOException {
    int announced = stream.available();
    byte[] out = new byte[announced];
    int n = stream.readNBytes(out, 0, announced);
    if (n < announced) {
      return java.util.Arrays.copyOf(out, n);
    }
    int next = stream.read();
    if (next == -1) {
      return out;
    }
    byte[] tail = stream.readAllBytes();
    byte[] all = java.util.Arrays.copyOf(out, announced + 1 + tail.length);
    all[announced] = (byte) next;
    System.arraycopy(tail, 0, all, announced + 1, tail.length);
    return all;
  }
}
