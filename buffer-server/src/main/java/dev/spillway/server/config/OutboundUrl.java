package dev.spillway.server.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A URL the daemon connects to, as a configuration key names it: https or http, a host, the
 * scheme's port when none is written, and the path as written; a query, a fragment and user info
 * are dropped. The exporter's endpoints, the KMS endpoint and the telemetry endpoint are read
 * with it; what each allows over plaintext http is said where it is read, in that key's words.
 *
 * @param host as {@link URI#getHost()} gives it (an IPv6 literal in brackets)
 * @param rawPath the path, percent-encoded as written; empty for none
 */
record OutboundUrl(String scheme, String host, int port, String rawPath) {

  /**
   * Reads {@code url}, the value of {@code key}; errors name the key and quote {@code raw}, the
   * value as written (which {@code url} may have completed with a scheme, see {@link
   * #withDefaultScheme}).
   */
  static OutboundUrl parse(YamlSection s, String key, String raw, String url) throws ConfigException {
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw s.errorAt(key, "'" + raw + "' is not a URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw s.errorAt(key, "scheme must be https (or http in the development mode)");
    }
    if (uri.getHost() == null) {
      throw s.errorAt(key, "'" + raw + "' has no host");
    }
    int port = uri.getPort() > 0 ? uri.getPort() : (scheme.equals("https") ? 443 : 80);
    return new OutboundUrl(scheme, uri.getHost(), port, uri.getRawPath() == null ? "" : uri.getRawPath());
  }

  /**
   * A value without a scheme, as the collector reads one: {@code https://}, or {@code http://}
   * when the block says {@code insecure}. A value with a scheme is returned as it is.
   */
  static String withDefaultScheme(String raw, boolean insecure) {
    String v = raw.trim();
    return v.contains("://") ? v : (insecure ? "http://" : "https://") + v;
  }

  boolean plaintext() {
    return scheme.equals("http");
  }

  /** Whether every address the host resolves to is a loopback address. */
  boolean loopback() {
    return new Endpoint(host, port).isLoopback();
  }

  /** The same scheme, host and port with another path ({@code ""} for none). */
  OutboundUrl withPath(String path) {
    return new OutboundUrl(scheme, host, port, path);
  }

  /**
   * The path with {@code suffix} appended unless it already ends with it, as the collector's
   * otlphttp exporter completes a base URL ({@code /v1/traces}, {@code /v1/metrics}).
   */
  OutboundUrl withPathEnding(String suffix) {
    if (rawPath.endsWith(suffix)) {
      return this;
    }
    return withPath((rawPath.endsWith("/") ? rawPath.substring(0, rawPath.length() - 1) : rawPath) + suffix);
  }

  /** scheme://host:port/path; valid, since every part came out of a parsed URI. */
  URI toUri() {
    return URI.create(scheme + "://" + host + ":" + port + rawPath);
  }

  @Override
  public String toString() {
    return toUri().toString();
  }
}
