package dev.spillway.core.export.internal;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.common.KeyValue;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.TraceStateBuilder;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.trace.TestSpanData;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random spans covering everything SpanData carries: ids, flags, trace state, local and remote
 * parents, every span kind, every attribute type including arrays and {@code Value}s, events and
 * links with their own attributes, dropped counts, statuses, resources and scopes with schema
 * urls and attributes. Seeded, so a failure can be reproduced.
 */
public final class SpanGenerator {
  private static final String TEXT = "abcdefghijklmnopqrstuvwxyz0123456789 -_./:=é漢🙂";

  private final Random random;
  /**
   * Whether to make only attributes whose Java type OTLP can carry back (no empty arrays, no
   * {@code Value} attributes holding a plain scalar), so a decoded span equals the original.
   */
  private final boolean javaTypesPreserved;
  private final List<Resource> resources;
  private final List<InstrumentationScopeInfo> scopes;

  public SpanGenerator(long seed, boolean javaTypesPreserved) {
    this.random = new Random(seed);
    this.javaTypesPreserved = javaTypesPreserved;
    this.resources =
        List.of(
            Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "gateway")),
            Resource.create(
                Attributes.builder()
                    .put("service.name", "checkout")
                    .put("host.cores", 2L)
                    .put("deployment.tags", "a", "b")
                    .build(),
                "https://opentelemetry.io/schemas/1.24.0"),
            Resource.empty());
    this.scopes =
        List.of(
            InstrumentationScopeInfo.create("io.example.http"),
            InstrumentationScopeInfo.builder("io.example.db")
                .setVersion("1.2.3")
                .setSchemaUrl("https://opentelemetry.io/schemas/1.21.0")
                .setAttributes(Attributes.of(AttributeKey.booleanKey("scope.flag"), true))
                .build(),
            InstrumentationScopeInfo.builder("io.example.queue").setVersion("0.1").build(),
            InstrumentationScopeInfo.builder("").build());
  }

  public List<SpanData> spans(int n) {
    List<SpanData> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(span(i));
    }
    return out;
  }

  public SpanData span(int index) {
    TraceFlags flags = TraceFlags.fromByte((byte) random.nextInt(256));
    TraceState state = traceState();
    String traceId = TraceId.fromLongs(random.nextLong() | 1, random.nextLong());
    SpanContext context = SpanContext.create(traceId, spanId(), flags, state);
    SpanContext parent =
        switch (random.nextInt(3)) {
          case 0 -> SpanContext.getInvalid();
          // OTLP does not carry the parent's flags and state: a parent has the span's own.
          case 1 -> SpanContext.create(traceId, spanId(), flags, state);
          default -> SpanContext.createFromRemoteParent(traceId, spanId(), flags, state);
        };
    long start = Math.abs(random.nextLong() >>> 2);
    Attributes attributes = attributes(random.nextInt(14), index);
    List<EventData> events = new ArrayList<>();
    for (int i = random.nextInt(5); i > 0; i--) {
      Attributes a = attributes(random.nextInt(4), index);
      events.add(EventData.create(start + random.nextInt(1000), text(8), a, a.size() + random.nextInt(3)));
    }
    List<LinkData> links = new ArrayList<>();
    for (int i = random.nextInt(4); i > 0; i--) {
      SpanContext lc =
          random.nextBoolean()
              ? SpanContext.createFromRemoteParent(
                  TraceId.fromLongs(random.nextLong() | 1, random.nextLong()), spanId(),
                  TraceFlags.fromByte((byte) random.nextInt(256)), traceState())
              : SpanContext.create(
                  TraceId.fromLongs(random.nextLong() | 1, random.nextLong()), spanId(),
                  TraceFlags.getSampled(), TraceState.getDefault());
      Attributes a = attributes(random.nextInt(4), index);
      links.add(LinkData.create(lc, a, a.size() + random.nextInt(3)));
    }
    StatusData status =
        switch (random.nextInt(3)) {
          case 0 -> StatusData.unset();
          case 1 -> StatusData.ok();
          default -> StatusData.create(StatusCode.ERROR, text(12));
        };
    return TestSpanData.builder()
        .setSpanContext(context)
        .setParentSpanContext(parent)
        .setResource(resources.get(random.nextInt(resources.size())))
        .setInstrumentationScopeInfo(scopes.get(random.nextInt(scopes.size())))
        .setName("span-" + index + "-" + text(6))
        .setKind(SpanKind.values()[random.nextInt(SpanKind.values().length)])
        .setStartEpochNanos(start)
        .setEndEpochNanos(start + random.nextInt(1_000_000_000))
        .setAttributes(attributes)
        .setTotalAttributeCount(attributes.size() + random.nextInt(4))
        .setEvents(events)
        .setTotalRecordedEvents(events.size() + random.nextInt(3))
        .setLinks(links)
        .setTotalRecordedLinks(links.size() + random.nextInt(3))
        .setStatus(status)
        .setHasEnded(true)
        .build();
  }

  private String spanId() {
    return SpanId.fromLong(random.nextLong() | 1);
  }

  private TraceState traceState() {
    int n = random.nextInt(4);
    if (n == 0) {
      return TraceState.getDefault();
    }
    TraceStateBuilder b = TraceState.builder();
    for (int i = 0; i < n; i++) {
      b.put("k" + random.nextInt(50), "v" + random.nextInt(1000));
    }
    return b.build();
  }

  private Attributes attributes(int n, int index) {
    AttributesBuilder b = Attributes.builder();
    for (int i = 0; i < n; i++) {
      String key = "attr." + i;
      switch (random.nextInt(javaTypesPreserved ? 13 : 16)) {
        case 0 -> b.put(AttributeKey.stringKey(key), text(10));
        case 1 -> b.put(AttributeKey.booleanKey(key), random.nextBoolean());
        case 2 -> b.put(AttributeKey.longKey(key), random.nextLong());
        case 3 -> b.put(AttributeKey.doubleKey(key), random.nextDouble() * 1e6 - 5e5);
        case 4 -> b.put(AttributeKey.stringArrayKey(key), List.of(text(3), text(4), ""));
        case 5 -> b.put(AttributeKey.booleanArrayKey(key), List.of(random.nextBoolean(), true));
        case 6 -> b.put(AttributeKey.longArrayKey(key), List.of(random.nextLong(), -1L, 0L));
        case 7 -> b.put(AttributeKey.doubleArrayKey(key), List.of(random.nextDouble(), -0.5));
        case 8 -> b.put(AttributeKey.valueKey(key), Value.of(new byte[] {1, 2, (byte) random.nextInt()}));
        case 9 -> b.put(
            AttributeKey.valueKey(key),
            Value.of(KeyValue.of("a", Value.of(text(3))), KeyValue.of("b", Value.of(random.nextLong()))));
        case 10 -> b.put(
            AttributeKey.valueKey(key), Value.of(Value.of("mixed"), Value.of(1L), Value.of(Value.of(true))));
        case 11 -> b.put(AttributeKey.valueKey(key), Value.empty());
        case 12 -> b.put(AttributeKey.longKey("seq"), (long) index);
        // OTLP cannot tell these Java types apart from others: wire-equal only.
        case 13 -> b.put(AttributeKey.stringArrayKey(key), List.of());
        case 14 -> b.put(AttributeKey.longArrayKey(key), List.of());
        default -> b.put(AttributeKey.valueKey(key), Value.of(text(5)));
      }
    }
    return b.build();
  }

  private String text(int max) {
    int n = 1 + random.nextInt(max);
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      int cp = TEXT.codePointAt(TEXT.offsetByCodePoints(0, random.nextInt(TEXT.codePointCount(0, TEXT.length()))));
      sb.appendCodePoint(cp);
    }
    return sb.toString();
  }
}
