package dev.spillway.server.tls;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Polls the TLS files of every listener on one daemon thread and swaps in new material when they
 * change. Polling modification times works on every filesystem, including the symlink swaps that
 * Kubernetes secret volumes do (the sizes and times of the targets change).
 */
public final class TlsReloader implements AutoCloseable {
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "spillway-tls-reload");
        t.setDaemon(true);
        return t;
      });

  public TlsReloader(List<ServerTlsContext> contexts) {
    for (ServerTlsContext c : contexts) {
      long ms = Math.max(10, c.reloadInterval().toMillis());
      timer.scheduleWithFixedDelay(c::reloadIfChanged, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
