package dev.spillway.server.audit;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Connects to a live receiver the way {@code openssl s_client -connect HOST:PORT} does without
 * {@code -cert}: TLS 1.3 preferred (1.2 offered), no client certificate, any server certificate
 * accepted (this is a probe; nothing is sent but a handshake and, on a second connection, one empty
 * plaintext HTTP request).
 *
 * <p>Under TLS 1.3 the client's handshake completes before the server has seen the client's
 * (empty) Certificate message, so a server that requires a certificate refuses only afterwards,
 * with an alert: 116 {@code certificate_required} (BoringSSL, OpenSSL, Go, JDK 21+) or 42
 * {@code bad_certificate} (JDK 17). The probe therefore reads, with a bounded timeout, before it
 * judges: an alert means mTLS is enforced; silence or application data means it is not.
 *
 * <p>Not thread-safe; use one per probe run.
 */
final class TlsProbe {

  /** A target that could not be reached at all: an input error, not a finding. */
  static final class UnreachableException extends Exception {
    private static final long serialVersionUID = 1L;

    UnreachableException(String message) {
      super(message);
    }
  }

  /** HOST:PORT as given on the command line. */
  record Target(String host, int port) {
    static Target parse(String spec) {
      String host;
      String port;
      if (spec.startsWith("[")) {
        int close = spec.indexOf("]:");
        if (close < 0) {
          throw new IllegalArgumentException("expected [IPv6]:PORT, got " + spec);
        }
        host = spec.substring(1, close);
        port = spec.substring(close + 2);
      } else {
        int colon = spec.lastIndexOf(':');
        if (colon <= 0 || spec.indexOf(':') != colon) {
          throw new IllegalArgumentException("expected HOST:PORT, got " + spec);
        }
        host = spec.substring(0, colon);
        port = spec.substring(colon + 1);
      }
      int p;
      try {
        p = Integer.parseInt(port);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("port is not a number in " + spec);
      }
      if (p < 1 || p > 65535) {
        throw new IllegalArgumentException("port out of range in " + spec);
      }
      return new Target(host, p);
    }

    String display() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /** TLS alert descriptions that mean "no acceptable client certificate". */
  private static final Map<String, Integer> REFUSAL_ALERTS = Map.of(
      "certificate_required", 116,
      "bad_certificate", 42,
      "handshake_failure", 40,
      "certificate_unknown", 46,
      "unknown_ca", 48,
      "access_denied", 49);
  private static final Pattern ALERT = Pattern.compile("fatal alert: ([a-z_]+)");
  private static final Duration EXPIRY_WARNING = Duration.ofDays(30);
  private static final int MAX_REPLY = 64;

  private final Clock clock;
  private final int connectTimeoutMs;
  private final int readTimeoutMs;

  // What the handshake revealed; reset per probe.
  private final List<X509Certificate> serverChain = new ArrayList<>();
  private String handshakeVersion;
  private boolean certificateRequested;
  private List<String> acceptedIssuers = List.of();

  TlsProbe(Clock clock, Duration connectTimeout, Duration readTimeout) {
    this.clock = clock;
    this.connectTimeoutMs = Math.toIntExact(connectTimeout.toMillis());
    this.readTimeoutMs = Math.toIntExact(readTimeout.toMillis());
  }

  void probe(Target target, Findings out) throws UnreachableException {
    serverChain.clear();
    handshakeVersion = null;
    certificateRequested = false;
    acceptedIssuers = List.of();
    String file = target.display();

    TlsOutcome tls = tryTls(target);
    PlaintextReply plain = tryPlaintext(target);

    if (!tls.spokeTls) {
      if (plain.answered()) {
        out.add(Rule.PROBE_PLAINTEXT, Severity.FAIL, file, "", 0,
            "no TLS: the endpoint answered a plaintext request (" + plain.describe() + "); spans sent here"
                + " cross the network unencrypted");
      } else {
        out.add(Rule.PROBE_MTLS, Severity.WARN, file, "", 0,
            "could not complete a TLS handshake (" + tls.detail + ") and got no plaintext answer either;"
                + " the endpoint's protocol is unknown");
      }
      return;
    }

    if (plain.answered()) {
      boolean badRequest = plain.status() == 400;
      out.add(Rule.PROBE_PLAINTEXT, badRequest ? Severity.WARN : Severity.FAIL, file, "", 0,
          "the TLS port also answered a plaintext request (" + plain.describe() + ")"
              + (badRequest ? "; a 400 usually means \"HTTP request to an HTTPS server\", but a TLS port"
                  + " should not speak plaintext at all" : ": the listener accepts plaintext too"));
    } else {
      out.add(Rule.PROBE_PLAINTEXT, Severity.PASS, file, "", 0,
          "a plaintext HTTP request got no HTTP answer");
    }

    if (tls.refusedAlert != null) {
      out.add(Rule.PROBE_MTLS, Severity.PASS, file, "", 0,
          "mTLS enforced: a client without a certificate was refused with alert "
              + REFUSAL_ALERTS.get(tls.refusedAlert) + " " + tls.refusedAlert
              + (tls.afterHandshake ? " after the client's side of the handshake" : " during the handshake")
              + issuersNote());
    } else if (tls.refusedWithoutAlert) {
      out.add(Rule.PROBE_MTLS, Severity.PASS, file, "", 0,
          "mTLS enforced: the server asked for a client certificate and closed the connection during the handshake"
              + " when none was sent (its alert was lost to: " + tls.detail + ")" + issuersNote());
    } else if (tls.accepted) {
      out.add(Rule.PROBE_MTLS, Severity.FAIL, file, "", 0,
          "TLS without client authentication: a client with no certificate "
              + (certificateRequested
                  ? "was asked for one (client_auth optional) but accepted without it"
                  : "was never asked for one")
              + " (" + tls.detail + ")");
    } else {
      out.add(Rule.PROBE_MTLS, Severity.WARN, file, "", 0,
          "cannot tell whether mTLS is enforced: " + tls.detail
              + "; check with: (sleep 2) | openssl s_client -connect " + file);
    }

    if (handshakeVersion != null) {
      boolean modern = handshakeVersion.equals("TLSv1.3") || handshakeVersion.equals("TLSv1.2");
      out.add(Rule.PROBE_TLS_VERSION, modern ? Severity.PASS : Severity.FAIL, file, "", 0,
          "negotiated " + handshakeVersion
              + (handshakeVersion.equals("TLSv1.2") ? " (TLS 1.3 was offered and not chosen)" : ""));
    }

    if (!serverChain.isEmpty()) {
      X509Certificate leaf = serverChain.get(0);
      Instant notAfter = leaf.getNotAfter().toInstant();
      Duration left = Duration.between(clock.instant(), notAfter);
      String subject = leaf.getSubjectX500Principal().getName();
      if (left.isNegative()) {
        out.add(Rule.PROBE_CERT_EXPIRY, Severity.FAIL, file, "", 0,
            "server certificate " + subject + " expired on " + notAfter);
      } else if (left.compareTo(EXPIRY_WARNING) < 0) {
        out.add(Rule.PROBE_CERT_EXPIRY, Severity.WARN, file, "", 0,
            "server certificate " + subject + " expires in " + left.toDays() + " days (" + notAfter + ")");
      } else {
        out.add(Rule.PROBE_CERT_EXPIRY, Severity.PASS, file, "", 0,
            "server certificate " + subject + " valid until " + notAfter + " (" + left.toDays() + " days)");
      }
    }
  }

  private String issuersNote() {
    return acceptedIssuers.isEmpty() ? "" : "; accepted client CAs: " + String.join("; ", acceptedIssuers);
  }

  private static final class TlsOutcome {
    boolean spokeTls; // a TLS server answered (ServerHello or alert)
    boolean accepted; // the connection stayed usable without a client certificate
    boolean afterHandshake;
    String refusedAlert; // alert name when refused for lack of a certificate
    boolean refusedWithoutAlert; // asked for a certificate, got none, hung up before we read the alert
    String detail = "";
  }

  private TlsOutcome tryTls(Target target) throws UnreachableException {
    TlsOutcome o = new TlsOutcome();
    SSLContext ctx;
    try {
      ctx = SSLContext.getInstance("TLS");
      ctx.init(new KeyManager[] {new NoClientCertificate()}, new TrustManager[] {new RecordingTrustAll()}, null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("JDK without TLS", e);
    }
    try (Socket raw = connect(target);
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, target.host(), target.port(), true)) {
      SSLParameters params = s.getSSLParameters();
      List<String> wanted = new ArrayList<>(List.of("TLSv1.3", "TLSv1.2"));
      wanted.retainAll(Arrays.asList(s.getSupportedProtocols()));
      params.setProtocols(wanted.toArray(new String[0]));
      params.setApplicationProtocols(new String[] {"h2", "http/1.1"});
      s.setSSLParameters(params);
      s.setSoTimeout(readTimeoutMs + connectTimeoutMs);
      try {
        s.startHandshake();
      } catch (SSLException e) {
        String alert = alert(e);
        if (alert != null) {
          o.spokeTls = true;
          if (isRefusal(alert)) {
            o.refusedAlert = alert;
          } else {
            o.detail = "handshake failed with alert " + alert;
          }
        } else {
          o.detail = "handshake failed: " + e.getMessage();
          o.spokeTls = handshakeVersion != null;
        }
        return o;
      } catch (SocketTimeoutException e) {
        o.detail = "no answer to the TLS ClientHello within " + (readTimeoutMs + connectTimeoutMs) + " ms";
        return o;
      } catch (IOException e) {
        o.detail = "handshake failed: " + e;
        o.spokeTls = handshakeVersion != null;
        if (certificateRequested) {
          // TLS 1.2: the server alerts and closes while we still write our flight, so the write
          // fails (broken pipe, reset) before the alert can be read. It asked for a certificate,
          // got none and hung up: a refusal.
          o.refusedWithoutAlert = true;
        }
        return o;
      }
      o.spokeTls = true;
      SSLSession session = s.getSession();
      handshakeVersion = session.getProtocol();
      String alpn = s.getApplicationProtocol();
      String negotiated = handshakeVersion + (alpn == null || alpn.isEmpty() ? "" : ", ALPN " + alpn);
      // Judge only after the server has had time to see our empty Certificate (TLS 1.3).
      s.setSoTimeout(readTimeoutMs);
      o.afterHandshake = true;
      try {
        int b = s.getInputStream().read();
        if (b < 0) {
          o.detail = "the server closed the connection after the handshake without an alert (" + negotiated + ")";
        } else {
          o.accepted = true;
          o.detail = negotiated + "; the server sent application data";
        }
      } catch (SocketTimeoutException e) {
        o.accepted = true;
        o.detail = negotiated + "; connection still open after " + readTimeoutMs + " ms";
      } catch (SSLException e) {
        String alert = alert(e);
        if (alert != null && isRefusal(alert)) {
          o.refusedAlert = alert;
        } else {
          o.detail = "after the handshake: " + e.getMessage();
        }
      } catch (EOFException | SocketException e) {
        o.detail = "the connection was closed after the handshake without an alert: " + e.getMessage();
      }
      return o;
    } catch (UnreachableException e) {
      throw e;
    } catch (IOException e) {
      o.detail = e.toString();
      return o;
    }
  }

  private boolean isRefusal(String alert) {
    if (alert.equals("certificate_required") || alert.equals("bad_certificate")) {
      return true;
    }
    // Other alerts count only when the server did ask for a certificate (TLS 1.2 servers often
    // answer an empty Certificate with handshake_failure).
    return certificateRequested && REFUSAL_ALERTS.containsKey(alert);
  }

  private static String alert(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      Matcher m = ALERT.matcher(String.valueOf(t.getMessage()));
      if (m.find()) {
        return m.group(1);
      }
    }
    return null;
  }

  /** Status line of a plaintext answer: HTTP/1.x status, 0 for an HTTP/2 frame, -1 for none. */
  record PlaintextReply(int status, String text) {
    boolean answered() {
      return status >= 0;
    }

    String describe() {
      return text;
    }
  }

  private PlaintextReply tryPlaintext(Target target) throws UnreachableException {
    try (Socket s = connect(target)) {
      s.setSoTimeout(readTimeoutMs);
      OutputStream w = s.getOutputStream();
      w.write(("POST /v1/traces HTTP/1.1\r\nHost: " + target.display() + "\r\n"
          + "Content-Type: application/x-protobuf\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      w.flush();
      byte[] buf = new byte[MAX_REPLY];
      int n = 0;
      InputStream r = s.getInputStream();
      try {
        while (n < buf.length) {
          int k = r.read(buf, n, buf.length - n);
          if (k < 0) {
            break;
          }
          n += k;
          if (n >= 16) {
            break;
          }
        }
      } catch (SocketTimeoutException | SocketException e) {
        // silence or a reset: judged on what arrived before it
      }
      String head = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
      if (head.startsWith("HTTP/")) {
        String line = head.split("\r?\n", 2)[0];
        String[] parts = line.split(" ");
        int status = 0;
        if (parts.length > 1) {
          try {
            status = Integer.parseInt(parts[1].trim());
          } catch (NumberFormatException e) {
            status = 0;
          }
        }
        return new PlaintextReply(status, line.trim());
      }
      if (n >= 9 && buf[0] != 0x15 && buf[0] != 0x16 && (buf[3] == 0x04 || buf[3] == 0x07)) {
        return new PlaintextReply(0, "an HTTP/2 " + (buf[3] == 0x04 ? "SETTINGS" : "GOAWAY")
            + " frame: plaintext HTTP/2 (gRPC without TLS)");
      }
      return new PlaintextReply(-1, n == 0 ? "nothing" : n + " non-HTTP bytes");
    } catch (UnreachableException e) {
      throw e;
    } catch (IOException e) {
      return new PlaintextReply(-1, e.toString());
    }
  }

  private Socket connect(Target target) throws UnreachableException {
    Socket s = new Socket();
    try {
      s.connect(new InetSocketAddress(target.host(), target.port()), connectTimeoutMs);
      return s;
    } catch (UnknownHostException e) {
      closeQuietly(s);
      throw new UnreachableException("unknown host " + target.host());
    } catch (ConnectException e) {
      closeQuietly(s);
      throw new UnreachableException("connection refused");
    } catch (SocketTimeoutException e) {
      closeQuietly(s);
      throw new UnreachableException("no connection within " + connectTimeoutMs + " ms");
    } catch (IOException e) {
      closeQuietly(s);
      throw new UnreachableException("cannot connect: " + e.getMessage());
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  /** Presents no certificate, and remembers whether the server asked for one and from which CAs. */
  private final class NoClientCertificate extends X509ExtendedKeyManager {
    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      record(issuers);
      return null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      record(issuers);
      return null;
    }

    private void record(Principal[] issuers) {
      certificateRequested = true;
      List<String> names = new ArrayList<>();
      if (issuers != null) {
        for (Principal p : issuers) {
          names.add(p.getName());
        }
      }
      acceptedIssuers = names;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return null;
    }
  }

  /** Trusts every server (probe only) and records its chain and the version being negotiated. */
  private final class RecordingTrustAll extends X509ExtendedTrustManager {
    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
      recordChain(chain);
      if (socket instanceof SSLSocket) {
        SSLSession hs = ((SSLSocket) socket).getHandshakeSession();
        if (hs != null) {
          handshakeVersion = hs.getProtocol();
        }
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
      recordChain(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
      recordChain(chain);
    }

    private void recordChain(X509Certificate[] chain) {
      serverChain.clear();
      if (chain != null) {
        serverChain.addAll(Arrays.asList(chain));
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
      throw new UnsupportedOperationException("client-side probe");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
      throw new UnsupportedOperationException("client-side probe");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
      throw new UnsupportedOperationException("client-side probe");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
