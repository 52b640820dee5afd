package dev.spillway.core.keys.aws;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

/** Counts every KMS operation sent on the wire, whatever its name, independently of KmsMetrics. */
final class WireCounter implements ExecutionInterceptor {
  private final Map<String, LongAdder> sent = new ConcurrentHashMap<>();

  @Override
  public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
    sent.computeIfAbsent(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME), k -> new LongAdder())
        .increment();
  }

  long count(String operation) {
    LongAdder a = sent.get(operation);
    return a == null ? 0 : a.sum();
  }

  /** Operation name to count, sorted, for assertions that show everything that was sent. */
  Map<String, Long> all() {
    Map<String, Long> m = new TreeMap<>();
    sent.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }
}
