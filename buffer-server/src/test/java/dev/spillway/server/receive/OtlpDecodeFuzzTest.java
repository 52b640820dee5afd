package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.spillway.server.telemetry.ServerMetrics;
import dev.spillway.server.testing.InMemoryBuffer;
import dev.spillway.server.testing.TestClients;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fuzzing of the OTLP/HTTP decode path: the receiver's {@code ExportHandler} (media type, gzip,
 * protobuf or OTLP/JSON, hand-off to ingest) on an {@link EmbeddedChannel}, {@link OtlpJson#toProtobuf}
 * and {@link BoundedGunzip#inflate} directly. Whatever the bytes: a status from the documented
 * set (200, 400, 413, 415, 503), never an exception out of the handler; what was accepted decodes
 * as a trace request; the JSON converter throws only {@link OtlpWire.Refused} and what it returns
 * parses as protobuf; gzip
 * throws only {@link IOException} or {@code TooLarge} and never returns more than its limit.
 *
 * <p>Input of the handler target: byte 0 picks the media type (bit 0: JSON) and gzip (bit 1);
 * the rest is the body. Seeds in {@code OtlpDecodeFuzzTestInputs/}. See docs/RELIABILITY.md.
 */
class OtlpDecodeFuzzTest {
  static final int LIMIT = 64 << 10;
  private static final Set<Integer> ALLOWED = Set.of(200, 400, 413, 415, 503);

  @FuzzTest(maxDuration = "20s")
  void httpDecode_anyBody_documentedStatusOnly(byte[] input) {
    checkHandler(input);
  }

  @FuzzTest(maxDuration = "20s")
  void otlpJson_anyText_refusedOrValidProtobuf(byte[] input) {
    checkJson(input);
  }

  @FuzzTest(maxDuration = "20s")
  void gunzip_anyBytes_ioErrorOrWithinLimit(byte[] input) {
    checkGunzip(input);
  }

  /** Bounded seeded mutations of every seed, so the default suite fuzzes without JAZZER_FUZZ. */
  @Test
  void mutatedSeeds_allThreeTargets_holdTheirContracts() {
    int n = Integer.getInteger("spillway.fuzz.mutations", 4_000);
    long deadline = System.nanoTime() + 30_000_000_000L;
    Random rnd = new Random(Long.getLong("spillway.fuzz.seed", 11));
    List<byte[]> handler = seeds("httpDecode_anyBody_documentedStatusOnly");
    List<byte[]> json = seeds("otlpJson_anyText_refusedOrValidProtobuf");
    List<byte[]> gzip = seeds("gunzip_anyBytes_ioErrorOrWithinLimit");
    int done = 0;
    for (; done < n && System.nanoTime() < deadline; done++) {
      checkHandler(mutate(handler.get(rnd.nextInt(handler.size())), rnd));
      checkJson(mutate(json.get(rnd.nextInt(json.size())), rnd));
      checkGunzip(mutate(gzip.get(rnd.nextInt(gzip.size())), rnd));
    }
    assertThat(done).isGreaterThan(Math.min(n, 500));
  }

  static void checkHandler(byte[] input) {
    if (input.length == 0) {
      return;
    }
    boolean json = (input[0] & 1) != 0;
    boolean gzip = (input[0] & 2) != 0;
    InMemoryBuffer buffer = new InMemoryBuffer(1000);
    ServerMetrics metrics = new ServerMetrics();
    EmbeddedChannel ch = new EmbeddedChannel(
        new OtlpHttpReceiver.ExportHandler(new OtlpIngest(buffer, metrics), metrics, LIMIT));
    DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/traces",
        Unpooled.wrappedBuffer(input, 1, input.length - 1));
    req.headers().set(HttpHeaderNames.CONTENT_TYPE, json ? "application/json" : "application/x-protobuf");
    if (gzip) {
      req.headers().set(HttpHeaderNames.CONTENT_ENCODING, "gzip");
    }
    ch.writeInbound(req);
    ch.checkException(); // rethrows anything the pipeline saw
    FullHttpResponse r = ch.readOutbound();
    if (r == null) {
      throw new AssertionError("no response");
    }
    try {
      if (!ALLOWED.contains(r.status().code())) {
        throw new AssertionError("status " + r.status());
      }
      for (byte[] accepted : buffer.drainAll()) {
        ExportTraceServiceRequest.parseFrom(accepted); // what the buffer took must decode
      }
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("accepted bytes do not decode", e);
    } finally {
      r.release();
      ch.finishAndReleaseAll();
    }
  }

  static void checkJson(byte[] input) {
    byte[] proto;
    try {
      proto = OtlpJson.toProtobuf(OtlpWire.Signal.TRACES, input, OtlpWire.Limits.DEFAULT);
    } catch (OtlpWire.Refused expected) {
      return; // the only allowed failure
    }
    try {
      ExportTraceServiceRequest.parseFrom(proto);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("converted JSON does not parse as protobuf", e);
    }
  }

  static void checkGunzip(byte[] input) {
    try {
      byte[] out = BoundedGunzip.inflate(new ByteArrayInputStream(input), LIMIT);
      if (out.length > LIMIT) {
        throw new AssertionError("inflated " + out.length + " bytes past the limit " + LIMIT);
      }
    } catch (IOException | BoundedGunzip.TooLarge expected) {
      // the only allowed failures
    }
  }

  static byte[] mutate(byte[] seed, Random rnd) {
    byte[] b = seed.clone();
    int edits = 1 + rnd.nextInt(4);
    for (int e = 0; e < edits; e++) {
      switch (rnd.nextInt(5)) {
        case 0 -> { if (b.length > 0) { int p = rnd.nextInt(b.length); b[p] ^= (byte) (1 << rnd.nextInt(8)); } }
        case 1 -> { if (b.length > 0) { b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256); } }
        case 2 -> b = Arrays.copyOf(b, rnd.nextInt(b.length + 1));
        case 3 -> { // duplicate a slice (nesting, repeated fields)
          if (b.length > 1) {
            int from = rnd.nextInt(b.length);
            int len = 1 + rnd.nextInt(Math.min(64, b.length - from));
            byte[] n = new byte[b.length + len];
            System.arraycopy(b, 0, n, 0, from + len);
            System.arraycopy(b, from, n, from + len, b.length - from);
            b = n;
          }
        }
        default -> { if (b.length > 0) { b[rnd.nextInt(b.length)] = (byte) "{}[]\":,0\\".charAt(rnd.nextInt(9)); } }
      }
    }
    return b;
  }

  static List<byte[]> seeds(String method) {
    List<byte[]> out = new ArrayList<>();
    try {
      Path dir = Path.of(OtlpDecodeFuzzTest.class.getResource("OtlpDecodeFuzzTestInputs/" + method).toURI());
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : (Iterable<Path>) files.sorted()::iterator) {
          out.add(Files.readAllBytes(f));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  static final String JSON_SEED = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
      + "\"value\":{\"stringValue\":\"fuzz\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"s\"},\"spans\":[{"
      + "\"traceId\":\"5a000000000000000000000000000001\",\"spanId\":\"0000000000000001\","
      + "\"parentSpanId\":\"0000000000000002\",\"name\":\"op\",\"kind\":2,"
      + "\"startTimeUnixNano\":\"1700000000000000000\",\"endTimeUnixNano\":\"1700000000100000000\","
      + "\"attributes\":[{\"key\":\"k\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"a\","
      + "\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"},{\"doubleValue\":1.5},{\"boolValue\":true}]}}}]}}}],"
      + "\"links\":[{\"traceId\":\"5a000000000000000000000000000002\",\"spanId\":\"0000000000000003\"}],"
      + "\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"m\"}}]}]}]}";

  /** Writes the seed corpus: {@code -Dspillway.fuzz.writeSeeds=DIR} (the resources folder). */
  @Test
  @EnabledIfSystemProperty(named = "spillway.fuzz.writeSeeds", matches = ".+")
  void writeSeeds() throws Exception {
    Path base = Path.of(System.getProperty("spillway.fuzz.writeSeeds"))
        .resolve("dev/spillway/server/receive/OtlpDecodeFuzzTestInputs");
    byte[] proto = TestClients.request(3, "secret-value").toByteArray();
    byte[] json = JSON_SEED.getBytes(StandardCharsets.UTF_8);
    Path h = Files.createDirectories(base.resolve("httpDecode_anyBody_documentedStatusOnly"));
    Files.write(h.resolve("protobuf"), prefixed(0, proto));
    Files.write(h.resolve("json"), prefixed(1, json));
    Files.write(h.resolve("protobuf-gzip"), prefixed(2, gzip(proto)));
    Files.write(h.resolve("json-gzip"), prefixed(3, gzip(json)));
    Path j = Files.createDirectories(base.resolve("otlpJson_anyText_refusedOrValidProtobuf"));
    Files.write(j.resolve("request"), json);
    Files.writeString(j.resolve("empty-object"), "{}");
    Path g = Files.createDirectories(base.resolve("gunzip_anyBytes_ioErrorOrWithinLimit"));
    Files.write(g.resolve("protobuf"), gzip(proto));
    Files.write(g.resolve("bomb"), gzip(new byte[LIMIT * 4]));
  }

  private static byte[] prefixed(int flags, byte[] body) {
    byte[] out = new byte[body.length + 1];
    out[0] = (byte) flags;
    System.arraycopy(body, 0, out, 1, body.length);
    return out;
  }

  private static byte[] gzip(byte[] b) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(b);
    }
    return out.toByteArray();
  }
}
