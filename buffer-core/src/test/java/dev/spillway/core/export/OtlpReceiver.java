package dev.spillway.core.export;

import dev.spillway.core.export.internal.OtlpLogs;
import dev.spillway.core.export.internal.OtlpMetrics;
import dev.spillway.core.export.internal.SdkEncoding;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A real OTLP/gRPC receiver on 127.0.0.1 for tests, serving traces, metrics and logs: it can refuse
 * every call with a status (UNAVAILABLE: the collector is down), hold calls until released (a slow
 * collector), or accept. Calls and refusals are counted over all three services.
 */
final class OtlpReceiver implements AutoCloseable {
  private final Server server;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition arrived = lock.newCondition();
  // --- guarded by lock ---
  private final List<ResourceSpans> spans = new ArrayList<>();
  private final List<ExportLogsServiceRequest> logRequests = new ArrayList<>();
  private final List<ExportMetricsServiceRequest> metricRequests = new ArrayList<>();
  private int logRecords;
  private int dataPoints;
  private Status failWith;
  private CountDownLatch hold;
  private int refused;
  private int calls;

  private OtlpReceiver() throws IOException {
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(new Service())
            .addService(new LogsService())
            .addService(new MetricsService())
            .build()
            .start();
  }

  static OtlpReceiver start() throws IOException {
    return new OtlpReceiver();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getPort();
  }

  /** Every call fails with {@code status} from now on. */
  void failWith(Status status) {
    lock.lock();
    try {
      failWith = status;
    } finally {
      lock.unlock();
    }
  }

  /** Calls are accepted from now on (and held ones released). */
  void recover() {
    lock.lock();
    try {
      failWith = null;
      if (hold != null) {
        hold.countDown();
        hold = null;
      }
    } finally {
      lock.unlock();
    }
  }

  /** Calls wait (at most 30 s) until {@link #recover()}, then are accepted. */
  void holdCalls() {
    lock.lock();
    try {
      hold = new CountDownLatch(1);
    } finally {
      lock.unlock();
    }
  }

  int refusedCalls() {
    lock.lock();
    try {
      return refused;
    } finally {
      lock.unlock();
    }
  }

  int calls() {
    lock.lock();
    try {
      return calls;
    } finally {
      lock.unlock();
    }
  }

  /** Received spans, one per entry with its resource and scope, in arrival order. */
  List<ResourceSpans> spans() {
    lock.lock();
    try {
      return new ArrayList<>(spans);
    } finally {
      lock.unlock();
    }
  }

  /** Accepted log requests, in arrival order. */
  List<ExportLogsServiceRequest> logRequests() {
    lock.lock();
    try {
      return new ArrayList<>(logRequests);
    } finally {
      lock.unlock();
    }
  }

  /** Accepted metric requests, in arrival order. */
  List<ExportMetricsServiceRequest> metricRequests() {
    lock.lock();
    try {
      return new ArrayList<>(metricRequests);
    } finally {
      lock.unlock();
    }
  }

  /** Waits until at least {@code n} log records arrived (duplicates counted). */
  boolean awaitLogRecords(int n, Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long remaining = timeout.toNanos();
      while (logRecords < n && remaining > 0) {
        remaining = arrived.awaitNanos(remaining);
      }
      return logRecords >= n;
    } finally {
      lock.unlock();
    }
  }

  /** Waits until at least {@code n} metric data points arrived (duplicates counted). */
  boolean awaitDataPoints(int n, Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long remaining = timeout.toNanos();
      while (dataPoints < n && remaining > 0) {
        remaining = arrived.awaitNanos(remaining);
      }
      return dataPoints >= n;
    } finally {
      lock.unlock();
    }
  }

  /** Waits until at least {@code n} spans arrived; returns whether they did in time. */
  boolean awaitSpans(int n, Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long remaining = timeout.toNanos();
      while (spans.size() < n && remaining > 0) {
        remaining = arrived.awaitNanos(remaining);
      }
      return spans.size() >= n;
    } finally {
      lock.unlock();
    }
  }

  /** Waits until at least {@code n} calls arrived (answered or not). */
  boolean awaitCalls(int n, Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long remaining = timeout.toNanos();
      while (calls < n && remaining > 0) {
        remaining = arrived.awaitNanos(remaining);
      }
      return calls >= n;
    } finally {
      lock.unlock();
    }
  }

  /** Waits until at least {@code n} calls were refused. */
  boolean awaitRefused(int n, Duration timeout) throws InterruptedException {
    lock.lock();
    try {
      long remaining = timeout.toNanos();
      while (refused < n && remaining > 0) {
        remaining = arrived.awaitNanos(remaining);
      }
      return refused >= n;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    recover();
    server.shutdownNow();
    try {
      server.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Counts the call, waits while calls are held, and answers {@code response} with the failure
   * status if one is set; otherwise runs {@code accept} under the lock and returns true, for the
   * caller to answer.
   */
  private boolean admit(StreamObserver<?> response, Runnable accept) {
    CountDownLatch wait;
    lock.lock();
    try {
      calls++;
      arrived.signalAll();
      wait = hold;
    } finally {
      lock.unlock();
    }
    if (wait != null) {
      try {
        wait.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    lock.lock();
    try {
      if (failWith != null) {
        refused++;
        arrived.signalAll();
        response.onError(failWith.asRuntimeException());
        return false;
      }
      accept.run();
      arrived.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  private final class Service extends TraceServiceGrpc.TraceServiceImplBase {
    @Override
    public void export(
        ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> response) {
      if (admit(response, () -> spans.addAll(SdkEncoding.perSpan(request)))) {
        response.onNext(ExportTraceServiceResponse.getDefaultInstance());
        response.onCompleted();
      }
    }
  }

  private final class LogsService extends LogsServiceGrpc.LogsServiceImplBase {
    @Override
    public void export(
        ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> response) {
      Runnable accept = () -> {
        logRequests.add(request);
        logRecords += OtlpLogs.count(request);
      };
      if (admit(response, accept)) {
        response.onNext(ExportLogsServiceResponse.getDefaultInstance());
        response.onCompleted();
      }
    }
  }

  private final class MetricsService extends MetricsServiceGrpc.MetricsServiceImplBase {
    @Override
    public void export(
        ExportMetricsServiceRequest request, StreamObserver<ExportMetricsServiceResponse> response) {
      Runnable accept = () -> {
        metricRequests.add(request);
        dataPoints += OtlpMetrics.count(request);
      };
      if (admit(response, accept)) {
        response.onNext(ExportMetricsServiceResponse.getDefaultInstance());
        response.onCompleted();
      }
    }
  }
}
