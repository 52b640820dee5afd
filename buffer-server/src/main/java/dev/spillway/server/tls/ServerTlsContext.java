package dev.spillway.server.tls;

import dev.spillway.server.config.TlsSettings;
import io.grpc.netty.GrpcSslContexts;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolNegotiator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server {@link SslContext} whose certificate, key and client CAs follow their files: {@link
 * #reloadIfChanged()} (called by {@link TlsReloader}) rebuilds the context when a file's
 * modification time or size changed, and every new handshake uses the newest material. Open
 * connections keep the material they were established with, so a rotation drops no request.
 * When the new files do not load (a half-written key, a mismatched pair), the old material stays
 * in use and the failure is logged and counted.
 *
 * <p>Always BoringSSL (netty-tcnative): with {@code ClientAuth.REQUIRE} it answers a TLS 1.3 client
 * that sends no certificate with the {@code certificate_required} alert (116).
 */
public final class ServerTlsContext extends SslContext {
  private static final Logger LOG = LoggerFactory.getLogger(ServerTlsContext.class);

  /** Which ALPN protocols the listener speaks. */
  public enum Alpn {
    GRPC,
    HTTP1
  }

  private final String name;
  private final TlsSettings settings;
  private final Alpn alpn;
  private final AtomicReference<SslContext> current = new AtomicReference<>();
  private final Object reloadLock = new Object(); // guards watch
  private FileWatch watch;
  private volatile Runnable onReloadFailure = () -> {};
  private volatile Runnable onReload = () -> {};

  private ServerTlsContext(String name, TlsSettings settings, Alpn alpn) {
    this.name = name;
    this.settings = settings;
    this.alpn = alpn;
  }

  /**
   * Loads the files now.
   *
   * @param name the configuration path, for messages
   * @throws IOException when the files do not make a usable server context, naming them
   */
  public static ServerTlsContext open(String name, TlsSettings settings, Alpn alpn) throws IOException {
    requireOpenSsl();
    ServerTlsContext c = new ServerTlsContext(name, settings, alpn);
    synchronized (c.reloadLock) {
      c.watch = new FileWatch(c.files());
      c.current.set(c.build());
    }
    return c;
  }

  /** Fails unless netty-tcnative's BoringSSL loaded: the JDK provider sends different alerts. */
  public static void requireOpenSsl() throws IOException {
    if (!OpenSsl.isAvailable()) {
      throw new IOException("BoringSSL (netty-tcnative) is not available on this platform: "
          + OpenSsl.unavailabilityCause());
    }
  }

  public void onReload(Runnable success, Runnable failure) {
    this.onReload = success;
    this.onReloadFailure = failure;
  }

  public java.time.Duration reloadInterval() {
    return settings.reloadInterval();
  }

  /** @return true if the files changed and the new material is now in use */
  public boolean reloadIfChanged() {
    synchronized (reloadLock) {
      try {
        if (!watch.changed()) {
          return false;
        }
      } catch (IOException e) {
        LOG.warn("{}: TLS files unreadable, keeping the current material: {}", name, e.getMessage());
        onReloadFailure.run();
        return false;
      }
      try {
        SslContext next = build();
        current.set(next);
        LOG.info("{}: TLS certificate/key/CA files changed; new handshakes use the new material", name);
        onReload.run();
        return true;
      } catch (IOException e) {
        // The watch has taken this state in, so the warning is not repeated every poll; a later
        // write is a new change and is retried.
        LOG.warn("{}: TLS files changed but do not load, keeping the current material: {}",
            name, e.getMessage());
        onReloadFailure.run();
        return false;
      }
    }
  }

  private List<Path> files() {
    List<Path> files = new ArrayList<>(List.of(settings.certFile(), settings.keyFile()));
    settings.clientCaFile().ifPresent(files::add);
    return files;
  }

  private SslContext build() throws IOException {
    try {
      SslContextBuilder b =
          SslContextBuilder.forServer(PemFiles.keyManagerFactory(settings.certFile(), settings.keyFile()));
      if (alpn == Alpn.GRPC) {
        b = GrpcSslContexts.configure(b, SslProvider.OPENSSL);
      } else {
        b.sslProvider(SslProvider.OPENSSL);
      }
      b.protocols(settings.minVersion().equals("1.3")
          ? new String[] {"TLSv1.3"}
          : new String[] {"TLSv1.3", "TLSv1.2"});
      Optional<Path> clientCa = settings.clientCaFile();
      if (clientCa.isPresent() && settings.clientAuth() == TlsSettings.ClientAuth.REQUIRE) {
        X509TrustManager tm = PemFiles.trustManager(clientCa.get());
        b.trustManager(new ClientNameCheck(tm, settings.allowedClientNames(), name));
        b.clientAuth(ClientAuth.REQUIRE);
      } else {
        b.clientAuth(ClientAuth.NONE);
      }
      return b.build();
    } catch (IOException e) {
      throw new IOException(name + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new IOException(name + ": the TLS material does not load: " + e.getMessage(), e);
    }
  }

  @Override
  public boolean isClient() {
    return false;
  }

  @Override
  public List<String> cipherSuites() {
    return current.get().cipherSuites();
  }

  @Override
  @SuppressWarnings("deprecation")
  public ApplicationProtocolNegotiator applicationProtocolNegotiator() {
    return current.get().applicationProtocolNegotiator();
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc) {
    return current.get().newEngine(alloc);
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc, String peerHost, int peerPort) {
    return current.get().newEngine(alloc, peerHost, peerPort);
  }

  @Override
  public SSLSessionContext sessionContext() {
    return current.get().sessionContext();
  }
}
