package dev.spillway.server.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The exporter's {@code tls} block: the CA that signed the downstream's certificate (empty: the
 * JVM's default trust store) and an optional client certificate for mTLS. {@code insecure}
 * (plaintext) is only accepted with the serve command's development flag and a loopback endpoint.
 */
public record ClientTlsSettings(
    Optional<Path> caFile,
    Optional<Path> certFile,
    Optional<Path> keyFile,
    boolean insecure,
    Optional<String> serverNameOverride) {}
