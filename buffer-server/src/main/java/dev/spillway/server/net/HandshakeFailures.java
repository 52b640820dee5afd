package dev.spillway.server.net;

import dev.spillway.server.tls.WeakCertificateException;
import io.netty.handler.ssl.NotSslRecordException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertificateException;
import java.util.Locale;

/** Turns a handshake exception into a short fixed metric label (never the peer's data). */
public final class HandshakeFailures {
  private HandshakeFailures() {}

  public static String reason(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof NotSslRecordException) {
        return "not_tls";
      }
      if (t instanceof WeakCertificateException) {
        return "weak_client_certificate";
      }
      if (t instanceof CertificateException) {
        return "bad_client_certificate";
      }
      if (t instanceof ClosedChannelException) {
        return "closed";
      }
      String m = t.getMessage() == null ? "" : t.getMessage().toUpperCase(Locale.ROOT);
      if (m.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") || m.contains("CERTIFICATE_REQUIRED")) {
        return "no_client_certificate";
      }
      if (m.contains("CERTIFICATE_VERIFY_FAILED") || m.contains("CERTIFICATE_UNKNOWN")
          || m.contains("BAD_CERTIFICATE") || m.contains("CERTIFICATE_EXPIRED")) {
        return "bad_client_certificate";
      }
      if (m.contains("VERSION") || m.contains("UNSUPPORTED_PROTOCOL")) {
        return "protocol_version";
      }
      if (m.contains("NO_SHARED_CIPHER") || m.contains("HANDSHAKE_FAILURE")) {
        return "no_shared_parameters";
      }
      if (m.contains("TIMED OUT")) {
        return "timeout";
      }
    }
    return "other";
  }
}
