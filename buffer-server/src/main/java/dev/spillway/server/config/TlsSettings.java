package dev.spillway.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A server-side {@code tls} block.
 *
 * @param certFile PEM certificate chain
 * @param keyFile PEM private key (PKCS#8 or traditional)
 * @param caFile extra chain certificates to present (optional)
 * @param clientCaFile the CAs that client certificates are verified against; empty only when
 *     {@code clientAuth} is {@link ClientAuth#NONE}
 * @param minVersion {@code 1.2} or {@code 1.3}
 * @param reloadInterval how often the files' modification times are checked
 * @param allowedClientNames when non-empty, a client certificate must carry one of these as a DNS
 *     or URI SAN or as its subject CN
 */
public record TlsSettings(
    Path certFile,
    Path keyFile,
    Optional<Path> caFile,
    Optional<Path> clientCaFile,
    ClientAuth clientAuth,
    String minVersion,
    Duration reloadInterval,
    List<String> allowedClientNames) {

  /** Whether the peer must present a certificate. */
  public enum ClientAuth {
    REQUIRE,
    NONE
  }
}
