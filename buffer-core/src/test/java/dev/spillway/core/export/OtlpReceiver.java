package dev.spillway.core.export;

import dev.spillway.core.export.internal.SdkEncoding;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
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
 * A real OTLP/gRPC trace receiver on 127.0.0.1 for tests: it can refuse every call with a status
 * (UNAVAILABLE: the collector is down), hold calls until released (a slow collector), or accept.
 */
final class OtlpReceiver implements AutoCloseable {
  private final Server server;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition arrived = lock.newCondition();
  // --- guarded by lock ---
  private final List<ResourceSpans> spans = new ArrayList<>();
  private Status failWith;
  private CountDownLatch hold;
  private int refused;
  private int calls;

  private OtlpReceiver() throws IOException {
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(new Service())
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

  private final class Service extends TraceServiceGrpc.TraceServiceImplBase {
    @Override
    public void export(
        ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> response) {
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
          return;
        }
        spans.addAll(SdkEncoding.perSpan(request));
        arrived.signalAll();
      } finally {
        lock.unlock();
      }
      response.onNext(ExportTraceServiceResponse.getDefaultInstance());
      response.onCompleted();
    }
  }
}
