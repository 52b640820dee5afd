package dev.spillway.core.export.internal;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Immutable {@link Attributes} that iterate in the order they had on the wire. The SDK's own
 * {@code Attributes} sort by key, but a live span's attributes iterate in the order they were set,
 * and the OTLP exporter writes them so: keeping the wire order makes a replayed span encode to the
 * very bytes it was produced as. Equal to any {@code Attributes} with the same entries.
 */
final class WireOrderAttributes implements Attributes {
  private final Map<AttributeKey<?>, Object> entries;

  /** Takes ownership of {@code entries}: values must be immutable. */
  WireOrderAttributes(LinkedHashMap<AttributeKey<?>, Object> entries) {
    this.entries = Collections.unmodifiableMap(entries);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T get(AttributeKey<T> key) {
    return (T) entries.get(key);
  }

  @Override
  public void forEach(BiConsumer<? super AttributeKey<?>, ? super Object> consumer) {
    entries.forEach(consumer);
  }

  @Override
  public int size() {
    return entries.size();
  }

  @Override
  public boolean isEmpty() {
    return entries.isEmpty();
  }

  @Override
  public Map<AttributeKey<?>, Object> asMap() {
    return entries;
  }

  @Override
  public AttributesBuilder toBuilder() {
    return Attributes.builder().putAll(this);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Attributes a && entries.equals(a.asMap());
  }

  @Override
  public int hashCode() {
    return entries.hashCode();
  }

  @Override
  public String toString() {
    return "WireOrderAttributes" + entries;
  }
}
