package dev.spillway.server.audit;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Checks on collector-shaped YAML: the OpenTelemetry Collector's config and Spillway's own, whose
 * {@code receivers} and {@code exporters} blocks deliberately have the collector's shape.
 */
final class OtlpConfigChecks {

  private static final Set<String> OTLP_EXPORTER_TYPES =
      Set.of("otlp", "otlphttp", "otlp_http", "otlp_grpc");
  private static final String FILE_STORAGE_DEFAULT_DIR = "/var/lib/otelcol/file_storage";

  private OtlpConfigChecks() {}

  /** The component type of a collector component id: {@code otlp/spillway} → {@code otlp}. */
  static String type(String componentId) {
    int slash = componentId.indexOf('/');
    return slash < 0 ? componentId : componentId.substring(0, slash);
  }

  /** The otlp receivers' enabled protocols: protocol node by receiver id and protocol name. */
  static Map<String, ConfigNode> otlpProtocols(ConfigNode root) {
    Map<String, ConfigNode> out = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, ConfigNode> r : root.get("receivers").entries().entrySet()) {
      if (!type(r.getKey()).equals("otlp")) {
        continue;
      }
      for (Map.Entry<String, ConfigNode> p : r.getValue().get("protocols").entries().entrySet()) {
        out.put(r.getKey() + "/" + p.getKey(), p.getValue());
      }
    }
    return out;
  }

  static void checkReceivers(AuditInput in, Findings out) {
    for (Map.Entry<String, ConfigNode> e : otlpProtocols(in.tree()).entrySet()) {
      ConfigNode protocol = e.getValue();
      ConfigNode tls = protocol.get("tls");
      String endpoint = protocol.get("endpoint").textOrEmpty();
      if (!tls.isPresent() || tls.isNull()) {
        boolean loopback = isLoopback(endpoint);
        out.add(Rule.RX_NO_TLS, loopback ? Severity.WARN : Severity.FAIL, in.name(), protocol,
            "protocol " + lastSegment(protocol.path()) + " (endpoint " + (endpoint.isEmpty() ? "default" : endpoint)
                + ") has no tls block: it accepts plaintext"
                + (loopback ? " (bound to loopback only, so the traffic stays on this host)" : ""));
        continue;
      }
      if (tls.get("client_ca_file").textOrEmpty().isEmpty()) {
        String clientAuth = tls.get("client_auth").textOrEmpty();
        out.fail(Rule.RX_NO_CLIENT_CA, in.name(), tls,
            "tls without client_ca_file: any client without a certificate is accepted (TLS, not mTLS)"
                + (clientAuth.equalsIgnoreCase("none") ? "; client_auth: none says so explicitly" : ""));
      }
    }
  }

  static void checkExporters(AuditInput in, Findings out) {
    for (Map.Entry<String, ConfigNode> e : in.tree().get("exporters").entries().entrySet()) {
      if (!OTLP_EXPORTER_TYPES.contains(type(e.getKey()))) {
        continue;
      }
      ConfigNode exporter = e.getValue();
      for (String key : List.of("endpoint", "traces_endpoint")) {
        ConfigNode ep = exporter.get(key);
        if (ep.textOrEmpty().toLowerCase(Locale.ROOT).startsWith("http://")) {
          out.fail(Rule.P1_HTTP_ENDPOINT, in.name(), ep,
              "exporter " + e.getKey() + " sends to " + ep.text() + ": plaintext HTTP");
        }
      }
      ConfigNode tls = exporter.get("tls");
      if (tls.get("insecure").isTrue()) {
        out.fail(Rule.P1_INSECURE, in.name(), tls.get("insecure"),
            "exporter " + e.getKey() + " has tls.insecure: true: it connects without TLS");
        continue;
      }
      if (tls.get("insecure_skip_verify").isTrue()) {
        out.warn(Rule.P1_INSECURE, in.name(), tls.get("insecure_skip_verify"),
            "exporter " + e.getKey() + " encrypts but does not verify the server's certificate");
      }
      if (tls.get("ca_file").textOrEmpty().isEmpty() && tls.get("ca_pem").textOrEmpty().isEmpty()) {
        out.warn(Rule.P1_CA_MISSING, in.name(), tls.isPresent() ? tls : exporter,
            "exporter " + e.getKey() + " has no tls.ca_file: it trusts only the system store");
      }
      boolean cert = !tls.get("cert_file").textOrEmpty().isEmpty() || !tls.get("cert_pem").textOrEmpty().isEmpty();
      boolean key = !tls.get("key_file").textOrEmpty().isEmpty() || !tls.get("key_pem").textOrEmpty().isEmpty();
      if (!cert || !key) {
        out.warn(Rule.P1_CLIENT_CERT_MISSING, in.name(), tls.isPresent() ? tls : exporter,
            "exporter " + e.getKey() + " has no client " + (!cert && !key ? "certificate and key" : !cert ? "certificate" : "key")
                + " (tls.cert_file/tls.key_file): a downstream that enforces mTLS refuses it,"
                + " one that does not cannot tell who sends");
      }
    }
  }

  /** Collector only: memory_limiter ahead of batch in every pipeline. */
  static void checkPipelines(AuditInput in, Findings out) {
    for (Map.Entry<String, ConfigNode> p : in.tree().at("service.pipelines").entries().entrySet()) {
      ConfigNode processors = p.getValue().get("processors");
      List<String> names = processors.texts();
      int batch = indexOfType(names, "batch");
      int limiter = indexOfType(names, "memory_limiter");
      ConfigNode at = processors.isPresent() ? processors : p.getValue();
      if (limiter < 0) {
        out.fail(Rule.P2_MEMORY_LIMITER, in.name(), at,
            "pipeline " + p.getKey() + " has no memory_limiter"
                + (batch >= 0 ? " ahead of batch" : "") + ": under pressure queues grow until something spills or drops");
      } else if (batch >= 0 && limiter > batch) {
        out.fail(Rule.P2_MEMORY_LIMITER, in.name(), at,
            "pipeline " + p.getKey() + " runs memory_limiter after batch: the batch queue grows before the limiter sees it");
      }
    }
  }

  /** Collector only: exporters whose sending_queue persists to a file_storage extension. */
  static void checkSendingQueues(AuditInput in, Findings out, SpillMount mounts) {
    ConfigNode root = in.tree();
    for (Map.Entry<String, ConfigNode> e : root.get("exporters").entries().entrySet()) {
      ConfigNode storage = e.getValue().at("sending_queue.storage");
      String ext = storage.textOrEmpty();
      if (ext.isEmpty() || e.getValue().at("sending_queue.enabled").textOrEmpty().equalsIgnoreCase("false")) {
        continue;
      }
      if (!type(ext).equals("file_storage")) {
        out.warn(Rule.P2_PLAINTEXT_QUEUE, in.name(), storage,
            "exporter " + e.getKey() + " persists its queue through " + ext
                + ", which this audit does not know; collector storage extensions do not encrypt");
        continue;
      }
      ConfigNode dirNode = root.get("extensions").get(ext).get("directory");
      String dir = dirNode.textOrEmpty().isEmpty() ? FILE_STORAGE_DEFAULT_DIR : dirNode.text();
      SpillMount.Verdict v = checkMount(in, dirNode.isPresent() ? dirNode : storage, dir,
          "file_storage " + ext, mounts, out);
      boolean encrypted = v.kind() == SpillMount.Kind.ENCRYPTED;
      out.add(Rule.P2_PLAINTEXT_QUEUE, encrypted ? Severity.WARN : Severity.FAIL, in.name(), storage,
          "exporter " + e.getKey() + " writes queued spans unencrypted to " + dir + " (" + ext + ")"
              + (encrypted ? "; the volume is dm-crypt, so only readers of the mounted file system see them" : ""));
    }
  }

  /** Spillway only: the spill directory's mount. */
  static void checkSpillDirectory(AuditInput in, Findings out, SpillMount mounts) {
    ConfigNode dir = in.tree().at("buffer.spill.directory");
    if (!dir.textOrEmpty().isEmpty()) {
      checkMount(in, dir, dir.text(), "spill directory", mounts, out);
    }
  }

  static SpillMount.Verdict checkMount(AuditInput in, ConfigNode at, String dir, String what,
      SpillMount mounts, Findings out) {
    SpillMount.Verdict v = mounts.inspect(dir);
    String where = what + " " + dir + " is on " + v.mountPoint() + " (" + v.source() + ", " + v.fsType() + "): ";
    switch (v.kind()) {
      case ENCRYPTED:
        out.add(Rule.P2_SPILL_MOUNT, Severity.PASS, in.name(), at, where + v.detail());
        break;
      case PLAIN:
        out.fail(Rule.P2_SPILL_MOUNT, in.name(), at, where + v.detail() + "; whatever is written there is plaintext at rest");
        break;
      case MEMORY:
        out.warn(Rule.P2_SPILL_MOUNT, in.name(), at, where + v.detail() + "; nothing reaches disk unless memory is swapped,"
            + " so swap must be encrypted or off");
        break;
      default:
        out.warn(Rule.P2_SPILL_MOUNT, in.name(), at, where + v.detail() + "; verify the volume's encryption by other means");
        break;
    }
    return v;
  }

  private static int indexOfType(List<String> componentIds, String type) {
    for (int i = 0; i < componentIds.size(); i++) {
      if (type(componentIds.get(i)).equals(type)) {
        return i;
      }
    }
    return -1;
  }

  static boolean isLoopback(String endpoint) {
    String e = endpoint.toLowerCase(Locale.ROOT);
    return e.startsWith("127.") || e.startsWith("localhost:") || e.equals("localhost")
        || e.startsWith("[::1]");
  }

  private static String lastSegment(String dotted) {
    int dot = dotted.lastIndexOf('.');
    return dot < 0 ? dotted : dotted.substring(dot + 1);
  }
}
