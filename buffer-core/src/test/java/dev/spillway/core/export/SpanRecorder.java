package dev.spillway.core.export;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Records every span it is given and keeps them after shutdown (the SDK's InMemorySpanExporter
 * clears itself on shutdown, which a test of restarts needs to outlive).
 */
final class SpanRecorder implements SpanExporter {
  private final Object lock = new Object();
  private final List<SpanData> spans = new ArrayList<>(); // guarded by lock

  @Override
  public CompletableResultCode export(Collection<SpanData> batch) {
    synchronized (lock) {
      spans.addAll(batch);
    }
    return CompletableResultCode.ofSuccess();
  }

  List<SpanData> spans() {
    synchronized (lock) {
      return new ArrayList<>(spans);
    }
  }

  @Override
  public CompletableResultCode flush() {
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode shutdown() {
    return CompletableResultCode.ofSuccess();
  }
}
