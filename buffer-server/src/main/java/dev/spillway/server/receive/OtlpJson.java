package dev.spillway.server.receive;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The OTLP/JSON mapping of trace requests. It is proto3 JSON with two differences that {@link
 * JsonFormat} does not know: trace and span ids are hex, not base64; and unknown fields must be
 * ignored. Enums may be integers (JsonFormat accepts both), keys lowerCamelCase (or the original
 * names, which JsonFormat also accepts).
 */
public final class OtlpJson {
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();

  private OtlpJson() {}

  /**
   * @throws InvalidProtocolBufferException when the text is not a valid OTLP/JSON trace request
   *     (the message never includes attribute values)
   */
  public static ExportTraceServiceRequest parse(String json) throws InvalidProtocolBufferException {
    JsonElement root;
    try {
      root = JsonParser.parseString(json);
    } catch (JsonParseException | IllegalStateException | StackOverflowError e) {
      throw new InvalidProtocolBufferException("not valid JSON");
    }
    if (!root.isJsonObject()) {
      throw new InvalidProtocolBufferException("the body is not a JSON object");
    }
    for (JsonElement rs : array(root.getAsJsonObject(), "resourceSpans", "resource_spans")) {
      for (JsonElement ss : array(obj(rs), "scopeSpans", "scope_spans")) {
        for (JsonElement span : array(obj(ss), "spans", "spans")) {
          JsonObject s = obj(span);
          hexToBase64(s, "traceId", "trace_id", 16);
          hexToBase64(s, "spanId", "span_id", 8);
          hexToBase64(s, "parentSpanId", "parent_span_id", 8);
          for (JsonElement link : array(s, "links", "links")) {
            hexToBase64(obj(link), "traceId", "trace_id", 16);
            hexToBase64(obj(link), "spanId", "span_id", 8);
          }
        }
      }
    }
    ExportTraceServiceRequest.Builder b = ExportTraceServiceRequest.newBuilder();
    try {
      PARSER.merge(root.toString(), b);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidProtocolBufferException("not an OTLP/JSON trace request");
    } catch (RuntimeException e) {
      throw new InvalidProtocolBufferException("not an OTLP/JSON trace request");
    }
    return b.build();
  }

  /** Prints a response or status message as JSON (no ids in these, so no hex mapping needed). */
  public static String print(com.google.protobuf.MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonObject obj(JsonElement e) throws InvalidProtocolBufferException {
    if (!e.isJsonObject()) {
      throw new InvalidProtocolBufferException("expected a JSON object in the span tree");
    }
    return e.getAsJsonObject();
  }

  private static Iterable<JsonElement> array(JsonObject o, String camel, String snake)
      throws InvalidProtocolBufferException {
    JsonElement e = o.has(camel) ? o.get(camel) : o.get(snake);
    if (e == null || e.isJsonNull()) {
      return new JsonArray();
    }
    if (!e.isJsonArray()) {
      throw new InvalidProtocolBufferException("'" + camel + "' must be an array");
    }
    return e.getAsJsonArray();
  }

  private static void hexToBase64(JsonObject o, String camel, String snake, int bytes)
      throws InvalidProtocolBufferException {
    String key = o.has(camel) ? camel : (o.has(snake) ? snake : null);
    if (key == null) {
      return;
    }
    JsonElement v = o.get(key);
    if (v.isJsonNull()) {
      return;
    }
    if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
      throw new InvalidProtocolBufferException("'" + camel + "' must be a hex string");
    }
    String hex = v.getAsString();
    if (hex.isEmpty()) {
      return;
    }
    if (hex.length() != bytes * 2) {
      throw new InvalidProtocolBufferException(
          "'" + camel + "' must be " + (bytes * 2) + " hex digits, got " + hex.length() + " characters");
    }
    byte[] raw;
    try {
      raw = HexFormat.of().parseHex(hex);
    } catch (IllegalArgumentException e) {
      throw new InvalidProtocolBufferException("'" + camel + "' is not hex");
    }
    o.add(key, new JsonPrimitive(Base64.getEncoder().encodeToString(raw)));
  }
}
