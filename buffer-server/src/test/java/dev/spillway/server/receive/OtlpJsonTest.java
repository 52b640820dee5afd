package dev.spillway.server.receive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The streaming OTLP/JSON to protobuf conversion: faithful on valid requests, bounded on hostile ones. */
class OtlpJsonTest {
  static final OtlpWire.Limits LIMITS = OtlpWire.Limits.DEFAULT;

  /** OTLP/JSON as the spec writes it: protobuf's JSON with the ids turned from base64 into hex. */
  static String otlpJson(Message m) throws Exception {
    JsonElement tree = JsonParser.parseString(JsonFormat.printer().print(m));
    hexIds(tree);
    return tree.toString();
  }

  private static void hexIds(JsonElement e) {
    if (e.isJsonArray()) {
      e.getAsJsonArray().forEach(OtlpJsonTest::hexIds);
    } else if (e.isJsonObject()) {
      JsonObject o = e.getAsJsonObject();
      for (Map.Entry<String, JsonElement> f : o.entrySet()) {
        if (f.getKey().equals("traceId") || f.getKey().equals("spanId") || f.getKey().equals("parentSpanId")) {
          f.setValue(new JsonPrimitive(HexFormat.of().formatHex(Base64.getDecoder().decode(f.getValue().getAsString()))));
        } else {
          hexIds(f.getValue());
        }
      }
    }
  }

  static byte[] convert(OtlpWire.Signal signal, String json) throws OtlpWire.Refused {
    return OtlpJson.toProtobuf(signal, json.getBytes(StandardCharsets.UTF_8), LIMITS);
  }

  @Test
  void toProtobuf_eachSignal_sameMessageAsProtobufsOwnJson() throws Exception {
    Message traces = OtlpRequests.traces(4);
    Message metrics = OtlpRequests.metrics();
    Message logs = OtlpRequests.logs();
    assertThat(OtlpWireFuzzTest.parser(OtlpWire.Signal.TRACES).parseFrom(convert(OtlpWire.Signal.TRACES, otlpJson(traces))))
        .isEqualTo(traces);
    assertThat(OtlpWireFuzzTest.parser(OtlpWire.Signal.METRICS).parseFrom(convert(OtlpWire.Signal.METRICS, otlpJson(metrics))))
        .isEqualTo(metrics);
    assertThat(OtlpWireFuzzTest.parser(OtlpWire.Signal.LOGS).parseFrom(convert(OtlpWire.Signal.LOGS, otlpJson(logs))))
        .isEqualTo(logs);
    // Byte for byte what protobuf writes, when the JSON keys come in field order.
    assertThat(convert(OtlpWire.Signal.TRACES, otlpJson(traces))).isEqualTo(traces.toByteArray());
  }

  @Test
  void toProtobuf_snakeCaseKeysUnknownFieldsEnumNumbersAndStringInts_accepted() throws Exception {
    String json = "{\"resource_spans\":[{\"scope_spans\":[{\"spans\":[{\"trace_id\":\"5a000000000000000000000000000001\","
        + "\"span_id\":\"0000000000000001\",\"kind\":2,\"start_time_unix_nano\":\"17\",\"endTimeUnixNano\":18,"
        + "\"unknownThing\":{\"deep\":[1,2,{\"x\":null}]},\"status\":{\"code\":\"STATUS_CODE_ERROR\"}}]}]}]}";
    ExportTraceServiceRequest r = ExportTraceServiceRequest.parseFrom(convert(OtlpWire.Signal.TRACES, json));
    var span = r.getResourceSpans(0).getScopeSpans(0).getSpans(0);
    assertThat(span.getKindValue()).isEqualTo(2);
    assertThat(span.getStartTimeUnixNano()).isEqualTo(17);
    assertThat(span.getEndTimeUnixNano()).isEqualTo(18);
    assertThat(span.getStatus().getCodeValue()).isEqualTo(2);
    assertThat(span.getTraceId().byteAt(0)).isEqualTo((byte) 0x5a);
  }

  @Test
  void toProtobuf_fourMebibytesOfEmptyObjects_refusedAsTooManyItems() {
    StringBuilder b = new StringBuilder(4 << 20).append("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{}");
    while (b.length() < (4 << 20) - 16) {
      b.append(",{}");
    }
    b.append("]}]}]}");
    assertThatThrownBy(() -> convert(OtlpWire.Signal.TRACES, b.toString()))
        .isInstanceOfSatisfying(OtlpWire.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.TOO_MANY_ITEMS));
  }

  @Test
  void toProtobuf_invalidUtf8OrUnpairedSurrogate_refusedNotReplaced() {
    byte[] bad = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"ab\"}]}]}]}".getBytes(StandardCharsets.UTF_8);
    bad[new String(bad, StandardCharsets.UTF_8).indexOf("ab")] = (byte) 0xff;
    assertThatThrownBy(() -> OtlpJson.toProtobuf(OtlpWire.Signal.TRACES, bad, LIMITS))
        .isInstanceOfSatisfying(OtlpWire.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.INVALID_UTF8));
    assertThatThrownBy(() -> convert(OtlpWire.Signal.TRACES,
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"\\ud800x\"}]}]}]}"))
        .isInstanceOfSatisfying(OtlpWire.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.INVALID_UTF8));
  }

  @Test
  void toProtobuf_deepAnyValueNesting_refusedAsTooDeep() throws Exception {
    String value = "{\"stringValue\":\"x\"}";
    for (int i = 0; i < 40; i++) {
      value = "{\"arrayValue\":{\"values\":[" + value + "]}}";
    }
    String json = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":"
        + value + "}]}]}]}]}";
    assertThatThrownBy(() -> convert(OtlpWire.Signal.TRACES, json))
        .isInstanceOfSatisfying(OtlpWire.Refused.class,
            e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.TOO_DEEP));
  }

  @Test
  void toProtobuf_ambiguousOrWrongShapes_refusedAsMalformed() {
    for (String json : new String[] {
        "[]", "{} {}", "{\"resourceSpans\":{}}", "{\"resourceSpans\":[null]}",
        "{\"resourceSpans\":[],\"resource_spans\":[]}", // the same field twice
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":"
            + "{\"stringValue\":\"a\",\"intValue\":1}}]}]}]}]}", // two members of one oneof
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":1.5}]}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"droppedAttributesCount\":-1}]}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\"}]}]}]}",
        "{'resourceSpans':[]}", // not strict JSON
    }) {
      assertThatThrownBy(() -> convert(OtlpWire.Signal.TRACES, json)).as(json)
          .isInstanceOfSatisfying(OtlpWire.Refused.class,
              e -> assertThat(e.reason()).isEqualTo(OtlpWire.Refused.Reason.MALFORMED));
    }
  }
}
