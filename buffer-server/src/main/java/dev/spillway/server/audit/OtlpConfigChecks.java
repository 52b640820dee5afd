package dev.spillway.server.audit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Checks on collector-shaped YAML: the OpenTelemetry Collector's config (also Jaeger v2's, which is
 * one) and Spillway's own, whose {@code receivers} and {@code exporters} blocks deliberately have
 * the collector's shape. Only components a pipeline uses are judged: the collector starts no
 * other.
 */
final class OtlpConfigChecks {

  private static final Set<String> OTLP_EXPORTER_TYPES = Set.of("otlp", "otlphttp", "otlp_http", "otlp_grpc");
  private static final Set<String> GRPC_EXPORTER_TYPES = Set.of("otlp", "otlp_grpc");
  private static final Set<String> UDP_PROTOCOLS = Set.of("thrift_compact", "thrift_binary");
  private static final String FILE_STORAGE_DEFAULT_DIR = "/var/lib/otelcol/file_storage";

  private OtlpConfigChecks() {}

  /** The component type of a collector component id: {@code otlp/spillway} → {@code otlp}. */
  static String type(String componentId) {
    int slash = componentId.indexOf('/');
    return slash < 0 ? componentId : componentId.substring(0, slash);
  }

  /** One listener of a receiver: its node (protocol or receiver), a display name, and whether it is UDP. */
  record Listener(String id, ConfigNode node, boolean udp) {}

  /**
   * The listeners of the span receivers under {@code receivers}: otlp and jaeger protocols, zipkin,
   * opencensus and awsxray. With {@code used} non-null only receivers named there count.
   */
  static List<Listener> listeners(ConfigNode receivers, Set<String> used) {
    List<Listener> out = new ArrayList<>();
    for (Map.Entry<String, ConfigNode> r : receivers.entries().entrySet()) {
      if (used != null && !used.contains(r.getKey())) {
        continue;
      }
      String type = type(r.getKey());
      ConfigNode receiver = r.getValue();
      switch (type) {
        case "otlp":
        case "jaeger":
          for (Map.Entry<String, ConfigNode> p : receiver.get("protocols").entries().entrySet()) {
            out.add(new Listener(r.getKey() + "/" + p.getKey(), p.getValue(), UDP_PROTOCOLS.contains(p.getKey())));
          }
          break;
        case "zipkin":
        case "opencensus":
          out.add(new Listener(r.getKey(), receiver, false));
          break;
        case "awsxray":
          out.add(new Listener(r.getKey(), receiver,
              !receiver.get("transport").textOrEmpty().toLowerCase(Locale.ROOT).startsWith("tcp")));
          break;
        default:
          break;
      }
    }
    return out;
  }

  /** The otlp receivers' protocols, by receiver id and protocol name, of receivers a pipeline uses. */
  static Map<String, ConfigNode> otlpProtocols(ConfigNode root) {
    Map<String, ConfigNode> out = new LinkedHashMap<>();
    for (Listener l : listeners(root.get("receivers"), used(root, "receivers"))) {
      if (type(l.id()).equals("otlp")) {
        out.put(l.id(), l.node());
      }
    }
    return out;
  }

  /** Component ids a pipeline names under {@code kind} (receivers, exporters); null when there are no pipelines. */
  static Set<String> used(ConfigNode root, String kind) {
    ConfigNode pipelines = root.at("service.pipelines");
    if (!pipelines.isMapping()) {
      return null;
    }
    Set<String> ids = new LinkedHashSet<>();
    for (ConfigNode p : pipelines.entries().values()) {
      ids.addAll(p.get(kind).texts());
    }
    return ids;
  }

  static void checkReceivers(AuditInput in, Findings out) {
    checkListeners(in, in.tree().get("receivers"), used(in.tree(), "receivers"), out);
  }

  /** RX-NO-TLS and RX-NO-CLIENT-CA on every listener; Tempo calls it for distributor.receivers. */
  static void checkListeners(AuditInput in, ConfigNode receivers, Set<String> used, Findings out) {
    for (Listener l : listeners(receivers, used)) {
      ConfigNode node = l.node();
      ConfigNode tls = node.get("tls");
      String endpoint = node.get("endpoint").textOrEmpty();
      Endpoints.Reach reach = Endpoints.listener(endpoint, in);
      Severity severity = reach.loopback() ? Severity.WARN : Severity.FAIL;
      if (l.udp()) {
        out.add(Rule.RX_NO_TLS, severity, in.name(), node,
            l.id() + " receives spans over UDP, which cannot carry TLS (" + reach.why() + ")",
            "Disable " + node.path() + " and send over a TCP protocol with a tls block (OTLP, or jaeger grpc)"
                + (reach.loopback() ? ", or keep it bound to loopback for a local agent only." : "."));
        continue;
      }
      if (!tls.isPresent() || tls.isNull()) {
        out.add(Rule.RX_NO_TLS, severity, in.name(), node,
            l.id() + " has no tls block: it accepts plaintext (" + reach.why() + ")",
            "Add tls: {cert_file, key_file, client_ca_file} under " + node.path()
                + (in.operatorManaged() ? " (mount the files into the operator-managed pod with spec.volumes)." : "."));
        continue;
      }
      if (tls.get("client_ca_file").textOrEmpty().isEmpty() && tls.get("client_ca_pem").textOrEmpty().isEmpty()) {
        String clientAuth = tls.get("client_auth").textOrEmpty();
        out.add(Rule.RX_NO_CLIENT_CA, Severity.FAIL, in.name(), tls,
            "tls without client_ca_file: any client without a certificate is accepted (TLS, not mTLS)"
                + (clientAuth.equalsIgnoreCase("none") ? "; client_auth: none says so explicitly" : ""),
            "Add client_ca_file under " + tls.path() + " with the CA that signs the senders' client certificates.");
      }
    }
  }

  static void checkExporters(AuditInput in, Findings out) {
    Set<String> used = used(in.tree(), "exporters");
    for (Map.Entry<String, ConfigNode> e : in.tree().get("exporters").entries().entrySet()) {
      String type = type(e.getKey());
      if (!OTLP_EXPORTER_TYPES.contains(type) || (used != null && !used.contains(e.getKey()))) {
        continue;
      }
      ConfigNode exporter = e.getValue();
      ConfigNode ep = exporter.get("traces_endpoint").isPresent() ? exporter.get("traces_endpoint") : exporter.get("endpoint");
      String endpoint = ep.textOrEmpty();
      Endpoints.Reach reach = Endpoints.dial(endpoint);
      Severity plaintext = reach.loopback() ? Severity.WARN : Severity.FAIL;
      if (Endpoints.isHttpUrl(endpoint)) {
        out.add(Rule.P1_HTTP_ENDPOINT, plaintext, in.name(), ep,
            "exporter " + e.getKey() + " sends to " + endpoint + ": plaintext HTTP (" + reach.why() + ")",
            "Change " + ep.path() + " to https:// and give tls.ca_file (and cert_file/key_file for mTLS).");
        continue;
      }
      ConfigNode tls = exporter.get("tls");
      if (GRPC_EXPORTER_TYPES.contains(type) && tls.get("insecure").isTrue()) {
        out.add(Rule.P1_INSECURE, plaintext, in.name(), tls.get("insecure"),
            "exporter " + e.getKey() + " has tls.insecure: true: it connects to " + endpoint + " without TLS ("
                + reach.why() + ")",
            "Remove " + tls.get("insecure").path() + " and give tls.ca_file with the CA of " + endpoint + ".");
        continue;
      }
      if (tls.get("insecure_skip_verify").isTrue()) {
        out.warn(Rule.P1_INSECURE, in.name(), tls.get("insecure_skip_verify"),
            "exporter " + e.getKey() + " encrypts but does not verify the server's certificate");
      }
      if (Endpoints.isPublic(endpoint) || endpoint.isEmpty()) {
        continue; // a public CA is in the system store, and SaaS ingest authenticates with a key header, not mTLS
      }
      if (tls.get("ca_file").textOrEmpty().isEmpty() && tls.get("ca_pem").textOrEmpty().isEmpty()) {
        out.add(Rule.P1_CA_MISSING, Severity.WARN, in.name(), tls.isPresent() ? tls : exporter,
            "exporter " + e.getKey() + " to private endpoint " + endpoint + " has no tls.ca_file: it trusts only the"
                + " system store",
            "Set " + exporter.path() + ".tls.ca_file to the CA that signed " + endpoint + "'s certificate.");
      }
      boolean cert = !tls.get("cert_file").textOrEmpty().isEmpty() || !tls.get("cert_pem").textOrEmpty().isEmpty();
      boolean key = !tls.get("key_file").textOrEmpty().isEmpty() || !tls.get("key_pem").textOrEmpty().isEmpty();
      if (!cert || !key) {
        out.add(Rule.P1_CLIENT_CERT_MISSING, Severity.WARN, in.name(), tls.isPresent() ? tls : exporter,
            "exporter " + e.getKey() + " has no client " + (!cert && !key ? "certificate and key" : !cert ? "certificate" : "key")
                + " (tls.cert_file/tls.key_file): a downstream that enforces mTLS refuses it,"
                + " one that does not cannot tell who sends",
            "Set " + exporter.path() + ".tls.cert_file and key_file to a client certificate the receiver's client_ca_file trusts.");
      }
    }
  }

  /** P3-BACKEND-PLAINTEXT: Elasticsearch/OpenSearch over http://, Kafka without TLS, also Jaeger v2 storage. */
  static void checkBackends(AuditInput in, Findings out) {
    ConfigNode root = in.tree();
    Set<String> usedExporters = used(root, "exporters");
    for (Map.Entry<String, ConfigNode> e : root.get("exporters").entries().entrySet()) {
      if (usedExporters != null && !usedExporters.contains(e.getKey())) {
        continue;
      }
      ConfigNode exporter = e.getValue();
      switch (type(e.getKey())) {
        case "elasticsearch":
          httpUrls(in, "exporter " + e.getKey(), exporter.get("endpoints"), out);
          httpUrls(in, "exporter " + e.getKey(), exporter.get("endpoint"), out);
          break;
        case "opensearch":
          httpUrls(in, "exporter " + e.getKey(), exporter.at("http.endpoint"), out);
          break;
        case "kafka":
          kafka(in, "exporter " + e.getKey(), exporter, out);
          break;
        default:
          break;
      }
    }
    Set<String> usedReceivers = used(root, "receivers");
    for (Map.Entry<String, ConfigNode> r : root.get("receivers").entries().entrySet()) {
      if (type(r.getKey()).equals("kafka") && (usedReceivers == null || usedReceivers.contains(r.getKey()))) {
        kafka(in, "receiver " + r.getKey(), r.getValue(), out);
      }
    }
    ConfigNode extensions = root.at("service.extensions");
    List<String> enabled = extensions.texts();
    for (Map.Entry<String, ConfigNode> x : root.get("extensions").entries().entrySet()) {
      if (!type(x.getKey()).equals("jaeger_storage") || (extensions.isPresent() && !enabled.contains(x.getKey()))) {
        continue;
      }
      for (Map.Entry<String, ConfigNode> b : x.getValue().get("backends").entries().entrySet()) {
        for (String engine : List.of("elasticsearch", "opensearch")) {
          httpUrls(in, "Jaeger storage " + b.getKey() + " (" + engine + ")", b.getValue().at(engine + ".server_urls"), out);
        }
        ConfigNode grpc = b.getValue().get("grpc");
        if (grpc.isMapping()) {
          insecureGrpc(in, "Jaeger remote storage " + b.getKey(), grpc, out);
          insecureGrpc(in, "Jaeger remote storage " + b.getKey() + " writer", grpc.get("writer"), out);
        }
      }
    }
  }

  private static void httpUrls(AuditInput in, String what, ConfigNode urls, Findings out) {
    List<ConfigNode> nodes = urls.isSequence() ? urls.items() : urls.text() != null ? List.of(urls) : List.of();
    for (ConfigNode url : nodes) {
      String u = url.textOrEmpty();
      if (Endpoints.isHttpUrl(u)) {
        Endpoints.Reach reach = Endpoints.dial(u);
        out.add(Rule.P3_BACKEND_PLAINTEXT, reach.loopback() ? Severity.WARN : Severity.FAIL, in.name(), url,
            what + " writes spans to " + u + ": plaintext HTTP (" + reach.why() + ")",
            "Use https:// for " + url.path() + " and set its tls.ca_file; turn on TLS on the cluster's HTTP layer.");
      }
    }
  }

  /** A gRPC client (Jaeger's remote storage) with tls.insecure: true sends spans in plaintext. */
  private static void insecureGrpc(AuditInput in, String what, ConfigNode client, Findings out) {
    ConfigNode insecure = client.at("tls.insecure");
    String endpoint = client.get("endpoint").textOrEmpty();
    if (!insecure.isTrue() || endpoint.isEmpty()) {
      return;
    }
    Endpoints.Reach reach = Endpoints.dial(endpoint);
    out.add(Rule.P3_BACKEND_PLAINTEXT, reach.loopback() ? Severity.WARN : Severity.FAIL, in.name(), insecure,
        what + " sends spans to " + endpoint + " over gRPC with tls.insecure: true: plaintext (" + reach.why() + ")",
        "Remove " + insecure.path() + " and give tls.ca_file for the remote storage's certificate.");
  }

  private static void kafka(AuditInput in, String what, ConfigNode component, Findings out) {
    ConfigNode tls = component.get("tls").isPresent() ? component.get("tls") : component.at("auth.tls");
    if (tls.isPresent() && !tls.isNull() && !tls.get("insecure").isTrue()) {
      return;
    }
    ConfigNode brokers = component.get("brokers");
    List<String> hosts = brokers.texts();
    boolean loopback = !hosts.isEmpty() && hosts.stream().allMatch(h -> Endpoints.dial(h).loopback());
    if (hosts.isEmpty()) {
      loopback = true; // the kafka components default to localhost:9092
    }
    out.add(Rule.P3_BACKEND_PLAINTEXT, loopback ? Severity.WARN : Severity.FAIL, in.name(),
        brokers.isPresent() ? brokers : component,
        what + " talks to Kafka " + (hosts.isEmpty() ? "localhost:9092" : String.join(", ", hosts))
            + " without TLS: spans cross the network in plaintext" + (loopback ? " (loopback only by default)" : ""),
        "Add tls: {ca_file, cert_file, key_file} to " + component.path() + " and use the brokers' TLS listener.");
  }

  /** Collector only: memory_limiter ahead of batch in every pipeline (advice, so a warning). */
  static void checkPipelines(AuditInput in, Findings out) {
    for (Map.Entry<String, ConfigNode> p : in.tree().at("service.pipelines").entries().entrySet()) {
      ConfigNode processors = p.getValue().get("processors");
      List<String> names = processors.texts();
      int batch = indexOfType(names, "batch");
      int limiter = indexOfType(names, "memory_limiter");
      ConfigNode at = processors.isPresent() ? processors : p.getValue();
      String fix = "Put memory_limiter first in " + p.getValue().path() + ".processors (define it under processors:"
          + " with check_interval and limit_percentage).";
      if (limiter < 0) {
        out.add(Rule.P2_MEMORY_LIMITER, Severity.WARN, in.name(), at,
            "pipeline " + p.getKey() + " has no memory_limiter" + (batch >= 0 ? " ahead of batch" : "")
                + ": under pressure queues grow until something spills or drops", fix);
      } else if (batch >= 0 && limiter > batch) {
        out.add(Rule.P2_MEMORY_LIMITER, Severity.WARN, in.name(), at,
            "pipeline " + p.getKey() + " runs memory_limiter after batch: the batch queue grows before the limiter sees it",
            fix);
      }
    }
  }

  /** Collector only: exporters whose sending_queue persists to a file_storage extension. */
  static void checkSendingQueues(AuditInput in, Findings out, Audit.Environment env) {
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
          "file_storage " + ext, env, out);
      boolean encrypted = v != null && v.kind() == SpillMount.Kind.ENCRYPTED;
      out.add(Rule.P2_PLAINTEXT_QUEUE, encrypted ? Severity.WARN : Severity.FAIL, in.name(), storage,
          "exporter " + e.getKey() + " writes queued spans unencrypted to " + dir + " (" + ext + ")"
              + (encrypted ? "; the volume is dm-crypt, so only readers of the mounted file system see them" : ""));
    }
  }

  /** Spillway only: the spill directory's mount. */
  static void checkSpillDirectory(AuditInput in, Findings out, Audit.Environment env) {
    ConfigNode dir = in.tree().at("buffer.spill.directory");
    if (!dir.textOrEmpty().isEmpty()) {
      checkMount(in, dir, dir.text(), "spill directory", env, out);
    }
  }

  /**
   * P2-SPILL-MOUNT on the machine the audit runs on. A directory that does not exist here is a path
   * of another host (a container, a pod, the production VM): the verdict is unknown, not a guess
   * from this machine's root disk. Returns null in that case.
   */
  static SpillMount.Verdict checkMount(AuditInput in, ConfigNode at, String dir, String what,
      Audit.Environment env, Findings out) {
    if (!env.pathExists().test(dir)) {
      out.add(Rule.P2_SPILL_MOUNT, Severity.UNKNOWN, in.name(), at,
          what + " " + dir + " does not exist on " + env.hostName() + ", where the audit runs: its volume can only be"
              + " judged on the host that mounts it",
          "Run spillway audit on the host (or in the pod) that mounts " + dir + ", or verify its volume's encryption there.");
      return null;
    }
    SpillMount.Verdict v = env.mounts().inspect(dir);
    String where = what + " " + dir + " on " + env.hostName() + " is on " + v.mountPoint() + " (" + v.source() + ", "
        + v.fsType() + "): ";
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
    return !endpoint.isBlank() && Endpoints.connection(endpoint).loopback();
  }
}
