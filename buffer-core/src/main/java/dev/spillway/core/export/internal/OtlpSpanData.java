package dev.spillway.core.export.internal;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.common.InstrumentationLibraryInfo;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.List;
import java.util.Objects;

/**
 * An immutable {@link SpanData} read back from an OTLP span, for replaying a spilled batch to any
 * {@code SpanExporter}. Built by {@link OtlpSpans#fromRequest}. Always {@link #hasEnded() ended}.
 */
final class OtlpSpanData implements SpanData {
  private final String name;
  private final SpanKind kind;
  private final SpanContext spanContext;
  private final SpanContext parentSpanContext;
  private final StatusData status;
  private final long startEpochNanos;
  private final long endEpochNanos;
  private final Attributes attributes;
  private final int totalAttributeCount;
  private final List<EventData> events;
  private final int totalRecordedEvents;
  private final List<LinkData> links;
  private final int totalRecordedLinks;
  private final InstrumentationScopeInfo scope;
  private final Resource resource;

  OtlpSpanData(
      String name,
      SpanKind kind,
      SpanContext spanContext,
      SpanContext parentSpanContext,
      StatusData status,
      long startEpochNanos,
      long endEpochNanos,
      Attributes attributes,
      int totalAttributeCount,
      List<EventData> events,
      int totalRecordedEvents,
      List<LinkData> links,
      int totalRecordedLinks,
      InstrumentationScopeInfo scope,
      Resource resource) {
    this.name = name;
    this.kind = kind;
    this.spanContext = spanContext;
    this.parentSpanContext = parentSpanContext;
    this.status = status;
    this.startEpochNanos = startEpochNanos;
    this.endEpochNanos = endEpochNanos;
    this.attributes = attributes;
    this.totalAttributeCount = totalAttributeCount;
    this.events = List.copyOf(events);
    this.totalRecordedEvents = totalRecordedEvents;
    this.links = List.copyOf(links);
    this.totalRecordedLinks = totalRecordedLinks;
    this.scope = scope;
    this.resource = resource;
  }

  @Override
  public String getName() {
    return name;
  }

  @Override
  public SpanKind getKind() {
    return kind;
  }

  @Override
  public SpanContext getSpanContext() {
    return spanContext;
  }

  @Override
  public SpanContext getParentSpanContext() {
    return parentSpanContext;
  }

  @Override
  public StatusData getStatus() {
    return status;
  }

  @Override
  public long getStartEpochNanos() {
    return startEpochNanos;
  }

  @Override
  public Attributes getAttributes() {
    return attributes;
  }

  @Override
  public List<EventData> getEvents() {
    return events;
  }

  @Override
  public List<LinkData> getLinks() {
    return links;
  }

  @Override
  public long getEndEpochNanos() {
    return endEpochNanos;
  }

  @Override
  public boolean hasEnded() {
    return true;
  }

  @Override
  public int getTotalRecordedEvents() {
    return totalRecordedEvents;
  }

  @Override
  public int getTotalRecordedLinks() {
    return totalRecordedLinks;
  }

  @Override
  public int getTotalAttributeCount() {
    return totalAttributeCount;
  }

  @Override
  @Deprecated
  public InstrumentationLibraryInfo getInstrumentationLibraryInfo() {
    return InstrumentationLibraryInfo.create(scope.getName(), scope.getVersion(), scope.getSchemaUrl());
  }

  @Override
  public InstrumentationScopeInfo getInstrumentationScopeInfo() {
    return scope;
  }

  @Override
  public Resource getResource() {
    return resource;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof OtlpSpanData s)) {
      return false;
    }
    return startEpochNanos == s.startEpochNanos
        && endEpochNanos == s.endEpochNanos
        && totalAttributeCount == s.totalAttributeCount
        && totalRecordedEvents == s.totalRecordedEvents
        && totalRecordedLinks == s.totalRecordedLinks
        && name.equals(s.name)
        && kind == s.kind
        && spanContext.equals(s.spanContext)
        && parentSpanContext.equals(s.parentSpanContext)
        && status.equals(s.status)
        && attributes.equals(s.attributes)
        && events.equals(s.events)
        && links.equals(s.links)
        && scope.equals(s.scope)
        && resource.equals(s.resource);
  }

  @Override
  public int hashCode() {
    return Objects.hash(spanContext, name, startEpochNanos);
  }

  @Override
  public String toString() {
    return "OtlpSpanData{name=" + name + ", spanContext=" + spanContext + ", kind=" + kind + "}";
  }
}
