package dev.spillway.server.export;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.tls.PemFiles;
import dev.spillway.server.receive.OtlpServices;
import dev.spillway.server.receive.OtlpWire;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;

/**
 * OTLP/HTTP protobuf to the downstream, on the JDK's HTTP client, TLS 1.2+ (mTLS if configured):
 * each batch to its signal's URL ({@link ServerConfig.Otlp#httpEndpoint}).
 */
public final class HttpExporter implements OtlpExporter {
  private final HttpClient client;
  private final ServerConfig.Otlp config;

  private HttpExporter(HttpClient client, ServerConfig.Otlp config) {
    this.client = client;
    this.config = config;
  }

  static HttpExporter create(ServerConfig.Otlp o) throws IOException {
    HttpClient.Builder b = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(o.timeout())
        .followRedirects(HttpClient.Redirect.NEVER);
    if (o.endpoint().getScheme().equals("https")) {
      try {
        SSLContext ssl = SSLContext.getInstance("TLS");
        KeyManager[] km = o.tls().certFile().isPresent()
            ? PemFiles.keyManagerFactory(o.tls().certFile().get(), o.tls().keyFile().get()).getKeyManagers()
            : null;
        TrustManager[] tm = o.tls().caFile().isPresent()
            ? new TrustManager[] {PemFiles.trustManager(o.tls().caFile().get())}
            : null;
        ssl.init(km, tm, null);
        SSLParameters params = ssl.getDefaultSSLParameters();
        params.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        b.sslContext(ssl).sslParameters(params);
      } catch (GeneralSecurityException e) {
        throw new IOException("exporters.otlp.tls: cannot build the TLS context", e);
      }
    }
    return new HttpExporter(b.build(), o);
  }

  @Override
  public ExportResult export(OtlpWire.Signal signal, byte[] request) {
    byte[] body = request;
    HttpRequest.Builder rb = HttpRequest.newBuilder(config.httpEndpoint(signal))
        .timeout(config.timeout())
        .header("Content-Type", "application/x-protobuf");
    if (config.gzip()) {
      body = gzip(request);
      rb.header("Content-Encoding", "gzip");
    }
    for (Map.Entry<String, String> h : config.headers().entrySet()) {
      rb.header(h.getKey(), h.getValue());
    }
    HttpResponse<byte[]> r;
    try {
      r = client.send(rb.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      String why = dev.spillway.server.tls.TlsFailureReason.of(e)
          .orElse(e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
      return ExportResult.retryable("http: " + why, Optional.empty());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExportResult.retryable("interrupted", Optional.empty());
    }
    int code = r.statusCode();
    if (code >= 200 && code < 300) {
      try {
        return ExportResult.success(OtlpServices.rejected(signal, r.body()));
      } catch (InvalidProtocolBufferException e) {
        return ExportResult.success(0); // accepted; an unreadable body cannot un-accept it
      }
    }
    Optional<Duration> retryAfter = r.headers().firstValue("Retry-After").flatMap(HttpExporter::seconds);
    if (code == 400) {
      return ExportResult.permanent("http 400");
    }
    if (code == 413) {
      return ExportResult.tooLarge("http 413 (request entity too large)");
    }
    return ExportResult.retryable("http " + code, retryAfter);
  }

  private static Optional<Duration> seconds(String v) {
    try {
      long s = Long.parseLong(v.trim());
      return s >= 0 ? Optional.of(Duration.ofSeconds(s)) : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty(); // an HTTP-date: use our own backoff
    }
  }

  private static byte[] gzip(byte[] in) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length / 2 + 64);
    try (GZIPOutputStream g = new GZIPOutputStream(out)) {
      g.write(in);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  @Override
  public void close() {}
}
