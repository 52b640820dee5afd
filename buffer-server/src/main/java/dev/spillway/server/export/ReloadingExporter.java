package dev.spillway.server.export;

import dev.spillway.server.receive.OtlpWire;
import dev.spillway.server.tls.FileWatch;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exporter whose TLS files (client certificate, key, CA) may be replaced while the daemon runs,
 * as cert-manager or a Vault agent rotate them. Before an export, at most once per check interval,
 * it compares the files' modification times and sizes with what it loaded; when they changed it
 * builds a new exporter (new TLS context, new connections), closes the old one and carries on.
 * Files that do not load keep the old exporter and are logged once per change. Like every
 * exporter it is called from one thread, the drain loop's, so no export is in flight on the old
 * exporter when it is closed.
 */
final class ReloadingExporter implements OtlpExporter {
  private static final Logger LOG = LoggerFactory.getLogger(ReloadingExporter.class);

  /** How often the files are compared, at most: the same default as the receivers' reload_interval. */
  static final Duration CHECK_INTERVAL = Duration.ofSeconds(10);

  /** Builds an exporter from the files as they are now. */
  interface Factory {
    OtlpExporter create() throws IOException;
  }

  private final Factory factory;
  private final Duration interval;
  private final Clock clock;
  private final FileWatch watch;
  /** Read by the drain's consumers without a lock; replaced under {@link #reloadIfDue}'s. */
  private volatile OtlpExporter current;
  private long checkedAt;

  ReloadingExporter(Factory factory, List<Path> files, Duration interval, Clock clock) throws IOException {
    this.factory = factory;
    this.watch = new FileWatch(files);
    this.interval = interval;
    this.clock = clock;
    this.current = factory.create();
    this.checkedAt = clock.millis();
  }

  @Override
  public ExportResult export(OtlpWire.Signal signal, byte[] request) {
    reloadIfDue();
    return current.export(signal, request);
  }

  /** One consumer at a time checks the files and swaps the exporter (several export at once). */
  private synchronized void reloadIfDue() {
    long now = clock.millis();
    if (now - checkedAt >= interval.toMillis()) {
      checkedAt = now;
      reloadIfChanged();
    }
  }

  private void reloadIfChanged() {
    try {
      if (!watch.changed()) {
        return;
      }
    } catch (IOException e) {
      LOG.warn("exporters.otlp.tls: files unreadable, keeping the current certificate: {}", e.getMessage());
      return;
    }
    OtlpExporter next;
    try {
      next = factory.create();
    } catch (IOException | RuntimeException e) {
      LOG.warn("exporters.otlp.tls: files changed but do not load, keeping the current certificate: {}",
          e.getMessage());
      return;
    }
    OtlpExporter old = current;
    current = next;
    old.close();
    LOG.info("exporters.otlp.tls: certificate/key/CA files changed; new connections use the new material");
  }

  @Override
  public void close() {
    current.close();
  }
}
