package dev.spillway.server.audit;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where an endpoint written in a configuration reaches: only this host (loopback) or the network.
 * Understands the collector's {@code ${env:NAME:-default}} and compose's {@code ${NAME:-default}}
 * (the default decides), the collector's localhost default for a receiver without an endpoint
 * (v0.104 and later) and the operator's {@code 0.0.0.0} default, and tells public endpoints (a
 * SaaS behind a public CA) from private ones.
 */
final class Endpoints {

  /** Where a listener or a connection reaches, and why, for the message. */
  record Reach(boolean loopback, String why) {}

  private static final Pattern VARIABLE = Pattern.compile("\\$\\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?}");
  private static final List<String> PRIVATE_SUFFIXES = List.of(".svc", ".cluster.local", ".local", ".internal",
      ".lan", ".corp", ".home.arpa", ".localdomain", ".localhost");

  private Endpoints() {}

  /** A receiver's listen address; empty means the default of whatever runs the collector. */
  static Reach listener(String endpoint, AuditInput in) {
    if (endpoint.isBlank()) {
      if (in.operatorManaged()) {
        return new Reach(false, "no endpoint: the operator gives receivers 0.0.0.0, all interfaces");
      }
      if (in.legacyCollector() != null) {
        return new Reach(false, "no endpoint: " + in.legacyCollector() + " predates v0.104 and listens on 0.0.0.0");
      }
      if (in.kind() == InputKind.SPILLWAY_CONFIG) {
        return new Reach(true, "no endpoint: Spillway listens on 127.0.0.1 by default (docs/CONFIG.md)");
      }
      return new Reach(true, "no endpoint: the collector listens on localhost by default since v0.104 (0.0.0.0 before)");
    }
    return connection(endpoint);
  }

  private static final Pattern COLLECTOR_IMAGE =
      Pattern.compile("(opentelemetry-collector(?:-contrib|-k8s)?|otelcol(?:-contrib)?):v?0\\.(\\d+)\\.\\d+");

  /** A collector image older than v0.104 named in the text (an image tag in .env or compose), or null. */
  static String legacyCollectorImage(String text) {
    Matcher m = COLLECTOR_IMAGE.matcher(text);
    while (m.find()) {
      if (Integer.parseInt(m.group(2)) < 104) {
        return m.group();
      }
    }
    return null;
  }

  /**
   * A URL or host:port this configuration dials. Dialling 0.0.0.0 (or [::]) reaches this host, so
   * it counts as loopback, unlike a listener on 0.0.0.0.
   */
  static Reach dial(String endpoint) {
    String resolved = resolveDefaults(endpoint.trim());
    String host = host(resolved);
    if (host != null && (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]"))) {
      return new Reach(true, endpoint + " dials " + host + ", which reaches this host only");
    }
    return connection(endpoint);
  }

  /** A URL or host:port this configuration connects to or listens on. */
  static Reach connection(String endpoint) {
    String resolved = resolveDefaults(endpoint.trim());
    String host = host(resolved);
    if (host == null) {
      return new Reach(false, endpoint + " depends on a variable without a default");
    }
    if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
      return new Reach(false, endpoint + " listens on all interfaces");
    }
    boolean loopback = isLoopbackHost(host);
    return new Reach(loopback, loopback ? endpoint + " is loopback only" : endpoint + " is reachable over the network");
  }

  /** True for a host name that is not local to a cluster or company: a SaaS with a public CA. */
  static boolean isPublic(String endpoint) {
    String host = host(resolveDefaults(endpoint.trim()));
    if (host == null || host.isEmpty() || isLoopbackHost(host) || !host.contains(".")
        || host.matches("[0-9.]+") || host.startsWith("[")) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    return PRIVATE_SUFFIXES.stream().noneMatch(h::endsWith) && h.matches(".*\\.[a-z]{2,}");
  }

  /** Replaces {@code ${env:X:-default}} by its default; null when a variable has none. */
  static String resolveDefaults(String value) {
    Matcher m = VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      if (m.group(2) == null) {
        return null;
      }
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(2)));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The host of {@code scheme://host:port/path} or {@code host:port}; empty for ":port"; null if unknown. */
  static String host(String value) {
    if (value == null) {
      return null;
    }
    String s = value;
    int scheme = s.indexOf("://");
    if (scheme >= 0) {
      s = s.substring(scheme + 3);
    }
    int slash = s.indexOf('/');
    if (slash >= 0) {
      s = s.substring(0, slash);
    }
    int at = s.lastIndexOf('@');
    if (at >= 0) {
      s = s.substring(at + 1);
    }
    if (s.startsWith("[")) {
      int end = s.indexOf(']');
      return end < 0 ? s : s.substring(0, end + 1);
    }
    int colon = s.lastIndexOf(':');
    return colon >= 0 ? s.substring(0, colon) : s;
  }

  /** The port, or -1. */
  static int port(String value) {
    String s = resolveDefaults(value.trim());
    if (s == null) {
      return -1;
    }
    int scheme = s.indexOf("://");
    if (scheme >= 0) {
      s = s.substring(scheme + 3);
    }
    int slash = s.indexOf('/');
    if (slash >= 0) {
      s = s.substring(0, slash);
    }
    int colon = s.lastIndexOf(':');
    if (colon < 0 || s.endsWith("]")) {
      return -1;
    }
    try {
      return Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  static boolean isLoopbackHost(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]")
        || h.endsWith(".localhost");
  }

  static boolean isHttpUrl(String value) {
    return value.trim().toLowerCase(Locale.ROOT).startsWith("http://");
  }
}
