package dev.spillway.core.export.internal;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.common.KeyValue;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded random pieces the log and metric generators share: resources, scopes, attributes of every
 * type, {@link Value}s of every kind (nested), text with multi-byte characters.
 */
final class TelemetryValues {
  private static final String TEXT = "abcdefghijklmnopqrstuvwxyz0123456789 -_./:=é漢🙂";

  final Random random;
  /**
   * Whether to make only values whose Java form OTLP can carry back (no empty arrays, no {@code
   * VALUE} attributes holding a plain scalar, no empty strings where null means unset), so a
   * decoded item equals the original; otherwise also those, which are only wire-equal.
   */
  final boolean javaTypesPreserved;
  final List<Resource> resources;
  final List<InstrumentationScopeInfo> scopes;

  TelemetryValues(long seed, boolean javaTypesPreserved) {
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

  Resource resource() {
    return resources.get(random.nextInt(resources.size()));
  }

  InstrumentationScopeInfo scope() {
    return scopes.get(random.nextInt(scopes.size()));
  }

  Attributes attributes(int n) {
    AttributesBuilder b = Attributes.builder();
    for (int i = 0; i < n; i++) {
      String key = "attr." + i;
      switch (random.nextInt(javaTypesPreserved ? 12 : 15)) {
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
        // OTLP cannot tell these Java types apart from others: wire-equal only.
        case 12 -> b.put(AttributeKey.stringArrayKey(key), List.of());
        case 13 -> b.put(AttributeKey.longArrayKey(key), List.of());
        default -> b.put(AttributeKey.valueKey(key), Value.of(text(5)));
      }
    }
    return b.build();
  }

  /** A value of any kind, nesting arrays and key-value lists up to {@code depth} levels. */
  Value<?> value(int depth) {
    int kinds = depth > 0 ? 10 : 7;
    return switch (random.nextInt(kinds)) {
      case 0 -> Value.of(text(40));
      case 1 -> Value.of(random.nextBoolean());
      case 2 -> Value.of(random.nextLong());
      case 3 -> Value.of(random.nextDouble() * 1e9 - 5e8);
      case 4 -> Value.of(bytes(random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(40)));
      case 5 -> Value.empty();
      case 6 -> Value.of(""); // a set string oneof, written though empty
      case 7 -> {
        List<Value<?>> l = new ArrayList<>();
        for (int i = random.nextInt(4); i > 0; i--) {
          l.add(value(depth - 1));
        }
        yield Value.of(l);
      }
      default -> {
        int n = random.nextInt(4);
        KeyValue[] kvs = new KeyValue[n];
        for (int i = 0; i < n; i++) {
          kvs[i] = KeyValue.of("k" + i, value(depth - 1));
        }
        yield Value.of(kvs);
      }
    };
  }

  byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  String text(int max) {
    int n = 1 + random.nextInt(max);
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      int cp = TEXT.codePointAt(TEXT.offsetByCodePoints(0, random.nextInt(TEXT.codePointCount(0, TEXT.length()))));
      sb.appendCodePoint(cp);
    }
    return sb.toString();
  }

  /** Zero (unset) sometimes, else a plausible epoch-nanos time. */
  long time() {
    return random.nextInt(8) == 0 ? 0 : 1_700_000_000_000_000_000L + (random.nextLong() >>> 20);
  }
}
