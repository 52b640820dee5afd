package dev.spillway.server.config;

import dev.spillway.core.Compression;
import dev.spillway.core.Durability;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.OverflowPolicy;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.keys.aws.AwsKms;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import dev.spillway.server.receive.OtlpWire;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads the daemon's YAML, shaped like the OpenTelemetry Collector's so a receiver block can be
 * pasted. docs/CONFIG.md lists every key. Fails closed: a receiver without {@code tls}, a
 * {@code tls} block without {@code client_ca_file} (unless {@code client_auth: none}), an unknown
 * key, or an unset {@code ${env:NAME}} is an error that names the key and the file position.
 *
 * <p>Relative paths are resolved against the configuration file's directory.
 */
public final class ConfigLoader {
  /** Default largest OTLP request after decompression: {@value} bytes (the collector's 4 MiB gRPC default... and more for HTTP). */
  public static final long DEFAULT_MAX_REQUEST_BYTES = 4L << 20;

  /** Exporter types (the part before any {@code /NAME}) for OTLP over gRPC and over HTTP. */
  private static final String[] OTLP_GRPC_TYPES = {"otlp_grpc", "otlp"};
  private static final String[] OTLP_HTTP_TYPES = {"otlp_http", "otlphttp"};
  private static final java.util.regex.Pattern INSTANCE_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_.\\-]+");

  private final Function<String, String> env;
  private final boolean allowInsecureDev;
  private final List<String> warnings = new ArrayList<>();
  private Path baseDir;
  /** The configured exporter's key ({@code debug} when none), for the pipelines' check; null if its block failed. */
  private String exporterKey;

  /**
   * @param env looks up {@code ${env:NAME}} (normally {@code System::getenv})
   * @param allowInsecureDev the serve command's explicit development flag: receivers without TLS
   *     are then accepted on loopback endpoints only
   */
  public ConfigLoader(Function<String, String> env, boolean allowInsecureDev) {
    this.env = env;
    this.allowInsecureDev = allowInsecureDev;
  }

  public ServerConfig load(Path file) throws ConfigException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new ConfigException(file + ": cannot read the configuration: no such file"
          + (file.isAbsolute() ? "" : " (relative to " + Path.of("").toAbsolutePath() + ")"));
    } catch (java.nio.file.AccessDeniedException e) {
      throw new ConfigException(file + ": cannot read the configuration: permission denied for user "
          + System.getProperty("user.name"));
    } catch (IOException e) {
      String reason = Files.isDirectory(file) ? "it is a directory" : e.toString();
      throw new ConfigException(file + ": cannot read the configuration: " + reason);
    }
    Path dir = file.toAbsolutePath().getParent();
    return parse(text, file.toString(), dir);
  }

  /** Parses YAML text; {@code name} appears in error positions, {@code baseDir} anchors relative paths. */
  public ServerConfig parse(String yaml, String name, Path baseDir) throws ConfigException {
    this.baseDir = baseDir;
    warnings.clear();
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    options.setAllowRecursiveKeys(false);
    options.setCodePointLimit(1 << 20);
    Node root;
    try {
      root = new Yaml(options).compose(new StringReader(yaml));
    } catch (MarkedYAMLException e) {
      throw new ConfigException(
          YamlSection.position(name, e.getProblemMark()) + ": not valid YAML: " + e.getProblem());
    } catch (YAMLException e) {
      throw new ConfigException(name + ": not valid YAML: " + e.getMessage());
    }
    if (root == null) {
      throw new ConfigException(name + ": the configuration is empty");
    }
    List<ConfigException> problems = new ArrayList<>();
    YamlSection top = YamlSection.root(name, root, env, problems);

    // Each block is read even when an earlier one failed, so one run reports every error.
    Optional<ServerConfig.Receiver> grpc = Optional.empty();
    Optional<ServerConfig.Receiver> http = Optional.empty();
    Optional<YamlSection> grpcSection = Optional.empty();
    Optional<YamlSection> httpSection = Optional.empty();
    Optional<YamlSection> receivers = top.section("receivers");
    // No receivers block: a configuration for serve --role drain only, which then needs no
    // server certificate or key (the daemon refuses the ingest roles without receivers).
    if (receivers.isPresent()) {
      try {
        YamlSection otlp =
            receivers.get().section("otlp").orElseThrow(() -> receivers.get().errorAt("otlp", "is required"));
        YamlSection protocols =
            otlp.section("protocols").orElseThrow(() -> otlp.errorAt("protocols", "is required"));
        Optional<YamlSection> g = protocols.section("grpc");
        grpcSection = g;
        if (g.isPresent()) {
          grpc = collect(problems, () -> receiver(g.get(), "grpc", "127.0.0.1:4317", "max_recv_msg_size_mib"));
        }
        Optional<YamlSection> h = protocols.section("http");
        httpSection = h;
        if (h.isPresent()) {
          http = collect(problems, () -> receiver(h.get(), "http", "127.0.0.1:4318", "max_request_body_size"));
        }
        protocols.finish();
        otlp.finish();
        if (g.isEmpty() && h.isEmpty()) {
          problems.add(protocols.errorHere("enable at least one of grpc or http"));
        }
      } catch (ConfigException e) {
        problems.add(e);
      }
      receivers.get().finish();
    }

    Optional<YamlSection> bufferSection = top.section("buffer");
    Optional<ServerConfig.Buffer> buffer = collect(problems, () -> buffer(bufferSection, top));
    if (buffer.isPresent()) {
      requestFitsTheSpill(grpcSection, grpc, "max_recv_msg_size_mib", buffer.get()).ifPresent(problems::add);
      requestFitsTheSpill(httpSection, http, "max_request_body_size", buffer.get()).ifPresent(problems::add);
    }
    Optional<YamlSection> exportersSection = top.section("exporters");
    Optional<ServerConfig.Exporter> exporter = collect(problems, () -> exporter(exportersSection));
    Optional<YamlSection> serviceSection = top.section("service");
    Optional<YamlSection> telemetrySection;
    try {
      telemetrySection = telemetrySection(top.section("telemetry"), serviceSection);
    } catch (ConfigException e) {
      problems.add(e);
      telemetrySection = Optional.empty();
    }
    Optional<YamlSection> telemetry = telemetrySection;
    Optional<ServerConfig.Metrics> metrics = collect(problems, () -> metrics(telemetry));
    Optional<Set<OtlpWire.Signal>> signals = collect(problems, () -> signals(serviceSection));
    top.finish();
    if (!problems.isEmpty()) {
      throw ConfigException.of(problems);
    }
    return new ServerConfig(name, grpc, http, sizedForItsLargestBatch(buffer.orElseThrow(), grpc, http),
        exporter.orElseThrow(), metrics.orElseThrow(), List.copyOf(warnings), signals.orElseThrow());
  }

  /**
   * The buffer, told the largest batch it will be offered: a receiver's largest request or a
   * coalesced record. Both were checked against what the spill holds; the local spill maps no more
   * than that needs (the default 4 MiB receivers: 32 MiB chunks instead of 64).
   */
  private static ServerConfig.Buffer sizedForItsLargestBatch(ServerConfig.Buffer buffer,
      Optional<ServerConfig.Receiver> grpc, Optional<ServerConfig.Receiver> http) {
    long largest = buffer.coalesce().enabled() ? buffer.coalesce().maxRecordBytes() : 1;
    for (Optional<ServerConfig.Receiver> r : List.of(grpc, http)) {
      largest = Math.max(largest, r.map(ServerConfig.Receiver::maxRequestBytes).orElse(0L));
    }
    return buffer.withMaxBatchBytes(largest);
  }

  /**
   * A receiver's largest request must fit one record of the spill: a larger one would be accepted
   * into memory and then never reach the disk, or be refused as retryable forever.
   */
  private static Optional<ConfigException> requestFitsTheSpill(Optional<YamlSection> section,
      Optional<ServerConfig.Receiver> receiver, String sizeKey, ServerConfig.Buffer buffer) {
    long largest = buffer.recordLimitBytes();
    if (section.isEmpty() || receiver.isEmpty() || receiver.get().maxRequestBytes() <= largest) {
      return Optional.empty();
    }
    boolean mib = sizeKey.equals("max_recv_msg_size_mib");
    long asked = receiver.get().maxRequestBytes();
    String what = mib ? (asked >> 20) + " MiB" : asked + " bytes";
    String most = mib ? (largest >> 20) + " MiB (" + largest + " bytes)" : largest + " bytes";
    return Optional.of(section.get().errorAt(sizeKey,
        what + " is more than " + buffer.spillName() + " holds in one record; at most " + most));
  }

  /** Reads one block; an error it throws is collected and the block is left out. */
  private static <T> Optional<T> collect(List<ConfigException> problems, Block<T> block) {
    try {
      return Optional.of(block.read());
    } catch (ConfigException e) {
      problems.add(e);
      return Optional.empty();
    }
  }

  @FunctionalInterface
  private interface Block<T> {
    T read() throws ConfigException;
  }

  private ServerConfig.Receiver receiver(YamlSection s, String name, String defaultEndpoint, String sizeKey)
      throws ConfigException {
    Endpoint endpoint = endpoint(s, "endpoint", defaultEndpoint);
    long maxBytes;
    if (sizeKey.equals("max_recv_msg_size_mib")) {
      maxBytes = s.integer(sizeKey, DEFAULT_MAX_REQUEST_BYTES >> 20, 1, 1024) << 20;
    } else {
      maxBytes = s.integer(sizeKey, DEFAULT_MAX_REQUEST_BYTES, 1024, 1L << 30);
    }
    Duration readTimeout = ServerConfig.Receiver.DEFAULT_READ_TIMEOUT;
    int maxConnections = ServerConfig.Receiver.DEFAULT_MAX_CONNECTIONS;
    if (name.equals("http")) {
      readTimeout = s.duration("read_timeout", readTimeout);
      if (readTimeout.toMillis() < 100) {
        throw s.errorAt("read_timeout", "must be at least 100ms, got " + readTimeout.toMillis() + "ms");
      }
    }
    maxConnections = (int) s.integer("max_connections", maxConnections, 1, 1_000_000);
    Optional<TlsSettings> tls = Optional.empty();
    Optional<YamlSection> t = s.section("tls");
    if (t.isPresent()) {
      tls = Optional.of(serverTls(t.get()));
    } else if (!allowInsecureDev) {
      throw s.errorHere(
          "receiver '" + name + "' has no tls block: plaintext is refused (add tls with cert_file,"
              + " key_file and client_ca_file)");
    } else if (!endpoint.isLoopback()) {
      throw s.errorAt("endpoint",
          "receiver '" + name + "' has no tls block: the insecure development mode binds loopback only");
    } else {
      warnings.add("receiver '" + name + "' on " + endpoint
          + " accepts PLAINTEXT (insecure development mode); never use this outside a laptop");
    }
    s.finish();
    return new ServerConfig.Receiver(name, endpoint, tls, maxBytes, readTimeout, maxConnections);
  }

  private TlsSettings serverTls(YamlSection t) throws ConfigException {
    Path cert = existingFile(t, "cert_file", true).orElseThrow();
    Path key = existingFile(t, "key_file", true).orElseThrow();
    Optional<Path> ca = existingFile(t, "ca_file", false);
    Optional<Path> clientCa = existingFile(t, "client_ca_file", false);
    String auth = t.oneOf("client_auth", "require", "require", "none");
    TlsSettings.ClientAuth clientAuth =
        auth.equals("none") ? TlsSettings.ClientAuth.NONE : TlsSettings.ClientAuth.REQUIRE;
    if (clientAuth == TlsSettings.ClientAuth.REQUIRE && clientCa.isEmpty()) {
      // A typo such as client_ca_fle is reported by finish() as the unknown key it is.
      t.reportMissing("client_ca_file",
          "client certificates are required by default but client_ca_file is missing"
              + " (set client_ca_file, or client_auth: none to accept clients without certificates)");
    }
    if (clientAuth == TlsSettings.ClientAuth.NONE) {
      if (clientCa.isPresent()) {
        throw t.errorAt("client_auth", "client_auth: none contradicts client_ca_file; remove one");
      }
      warnings.add(t.path() + ": client_auth: none, any client may send spans (no mTLS)");
    }
    String min = t.oneOf("min_version", "1.2", "1.2", "1.3");
    Duration reload = t.duration("reload_interval", Duration.ofSeconds(10));
    List<String> names = t.stringList("allowed_client_names");
    if (!names.isEmpty() && clientAuth == TlsSettings.ClientAuth.NONE) {
      throw t.errorAt("allowed_client_names", "needs client certificates (client_ca_file)");
    }
    t.finish();
    return new TlsSettings(cert, key, ca, clientCa, clientAuth, min, reload, names);
  }

  private ServerConfig.Buffer buffer(Optional<YamlSection> section, YamlSection top)
      throws ConfigException {
    if (section.isEmpty()) {
      throw top.errorHere("buffer: is required (at least buffer.spill.directory and its keys)");
    }
    YamlSection b = section.get();
    Durability durability;
    String d = b.oneOf("durability", "memory-first", "memory-first", "durable");
    durability = Durability.fromConfigName(d);
    long limit = SpillBufferBuilder.DEFAULT_MEMORY_LIMIT_BYTES;
    long spike = -1;
    Optional<YamlSection> mem = b.section("memory");
    if (mem.isPresent()) {
      limit = mem.get().integer("limit_mib", limit >> 20, 0, 1 << 20) << 20;
      if (mem.get().has("spike_limit_mib")) {
        spike = mem.get().integer("spike_limit_mib", 0, 0, 1 << 20) << 20;
        if (spike > limit) {
          throw mem.get().errorAt("spike_limit_mib", "must not exceed limit_mib");
        }
      }
      mem.get().finish();
    }
    ServerConfig.Coalesce coalesce = coalesce(b.section("coalesce"));
    YamlSection spill = b.section("spill").orElseThrow(() -> b.errorAt("spill", "is required"));
    boolean kafka = spill.oneOf("backend", "chronicle", "chronicle", "kafka").equals("kafka");
    Compression codec = Compression.fromConfigName(spill.oneOf("compression", "lz4", "lz4", "none", "zstd"));
    YamlSection keys = spill.section("keys").orElseThrow(() -> spill.errorAt("keys", "is required"));
    ServerConfig.Keys k = keys(keys);
    dev.spillway.core.keys.DeploymentId deployment = dev.spillway.core.keys.DeploymentId.UNNAMED;
    Optional<String> deploymentName = spill.string("deployment_id");
    if (deploymentName.isPresent() && !deploymentName.get().isEmpty()) {
      try {
        deployment = dev.spillway.core.keys.DeploymentId.of(deploymentName.get());
      } catch (IllegalArgumentException e) {
        throw spill.errorAt("deployment_id", e.getMessage());
      }
    }
    if (kafka) {
      for (String local : List.of("directory", "max_disk_mib", "fsync", "overflow", "shared_group")) {
        if (spill.has(local)) {
          throw spill.errorAt(local, "is a setting of the local spill; with backend: kafka the spill lives on the"
              + " brokers (topic retention replaces max_disk_mib, see docs/SCALE-OUT.md)");
        }
      }
      YamlSection ks = spill.section("kafka").orElseThrow(() -> spill.errorAt("kafka", "is required with backend: kafka"));
      ServerConfig.KafkaSpill settings = kafka(ks);
      ServerConfig.Coalesce fitting =
          coalescedRecordsFit(b, coalesce, settings.settings().maxBatchBytes(), "the Kafka spill's max_record_bytes");
      spill.finish();
      b.finish();
      return new ServerConfig.Buffer(durability, limit, spike, Optional.empty(), 0,
          FsyncPolicy.fromConfigValue("none"), codec, OverflowPolicy.REFUSE, k, false, deployment, Optional.of(settings),
          fitting);
    }
    if (spill.has("kafka")) {
      throw spill.errorAt("kafka", "needs backend: kafka");
    }
    Path dir = path(spill.requiredString("directory"));
    long maxDisk =
        spill.integer("max_disk_mib", SpillBufferBuilder.DEFAULT_MAX_DISK_BYTES >> 20, 1, 1L << 30) << 20;
    FsyncPolicy fsync;
    try {
      fsync = FsyncPolicy.fromConfigValue(spill.string("fsync", "1s"));
    } catch (IllegalArgumentException e) {
      throw spill.errorAt("fsync", "expected none, every-batch or a duration such as 1s");
    }
    OverflowPolicy overflow =
        OverflowPolicy.fromConfigName(spill.oneOf("overflow", "refuse", "refuse", "drop-oldest"));
    boolean sharedGroup = spill.bool("shared_group", false);
    ServerConfig.Coalesce fitting =
        coalescedRecordsFit(b, coalesce, dev.spillway.core.SpillBuffer.MAX_BATCH_BYTES, "the local spill");
    spill.finish();
    b.finish();
    return new ServerConfig.Buffer(durability, limit, spike, Optional.of(dir), maxDisk, fsync, codec, overflow, k, sharedGroup,
        deployment, Optional.empty(), fitting);
  }

  /**
   * A coalesced record is offered as one batch: it must fit one record of the spill. A value
   * written in the file that does not is an error; the defaults shrink to fit (a Kafka spill with
   * a {@code max_record_bytes} under 1 MiB).
   */
  private static ServerConfig.Coalesce coalescedRecordsFit(YamlSection buffer, ServerConfig.Coalesce coalesce,
      long largest, String spill) throws ConfigException {
    if (!coalesce.enabled() || coalesce.maxRecordBytes() <= largest) {
      return coalesce;
    }
    Optional<YamlSection> c = buffer.section("coalesce");
    if (c.isPresent() && c.get().has("max_record_bytes")) {
      throw c.get().errorAt("max_record_bytes", coalesce.maxRecordBytes() + " bytes is more than " + spill
          + " holds in one record; at most " + largest);
    }
    return new ServerConfig.Coalesce(Math.min(coalesce.maxRequestBytes(), largest), coalesce.window(), largest,
        coalesce.fullWindow());
  }

  /** {@code buffer.coalesce}: absent means the defaults; 0 for either of the first two turns it off. */
  private static ServerConfig.Coalesce coalesce(Optional<YamlSection> section) throws ConfigException {
    if (section.isEmpty()) {
      return ServerConfig.Coalesce.DEFAULT;
    }
    YamlSection c = section.get();
    long maxRequest = c.integer("max_request_bytes", ServerConfig.Coalesce.DEFAULT_MAX_REQUEST_BYTES, 0, 16L << 20);
    Duration window = c.duration("window", ServerConfig.Coalesce.DEFAULT_WINDOW);
    if (window.compareTo(Duration.ofSeconds(1)) > 0) {
      throw c.errorAt("window", "must be at most 1s (every request of a group may wait this long), got "
          + window.toMillis() + "ms");
    }
    long maxRecord = c.integer("max_record_bytes", ServerConfig.Coalesce.DEFAULT_MAX_RECORD_BYTES, 1024, 64L << 20);
    if (maxRequest > maxRecord) {
      throw c.errorAt("max_request_bytes", "must not exceed max_record_bytes (" + maxRecord + "), got " + maxRequest);
    }
    boolean fullWindow = c.oneOf("wait", "busy", "busy", "window").equals("window");
    c.finish();
    return new ServerConfig.Coalesce(maxRequest, window, maxRecord, fullWindow);
  }

  /** {@code buffer.spill.kafka}: every error names its key; the settings' own checks are reported at their key. */
  private ServerConfig.KafkaSpill kafka(YamlSection ks) throws ConfigException {
    var b = dev.spillway.kafka.KafkaSpillSettings.builder();
    String at = "bootstrap_servers";
    try {
      List<String> servers = ks.stringList("bootstrap_servers");
      if (servers.isEmpty()) {
        throw ks.errorAt("bootstrap_servers", "is required: a list of host:port");
      }
      b.bootstrapServers(servers);
      at = "topic";
      ks.string("topic").ifPresent(b::topic);
      at = "consumer_group";
      ks.string("consumer_group").ifPresent(b::consumerGroup);
      at = "quarantine_topic";
      ks.string("quarantine_topic").ifPresent(b::quarantineTopic);
      at = "tls";
      YamlSection t = ks.section("tls").orElseThrow(() -> ks.errorAt("tls", "is required (ca_file, cert_file, key_file):"
          + " the spill never talks to Kafka in plaintext"));
      b.tls(new dev.spillway.kafka.KafkaSpillSettings.Tls(existingFile(t, "ca_file", true).orElseThrow(),
          existingFile(t, "cert_file", true).orElseThrow(), existingFile(t, "key_file", true).orElseThrow()));
      t.finish();
      at = "sasl";
      Optional<YamlSection> sasl = ks.section("sasl");
      if (sasl.isPresent()) {
        YamlSection sa = sasl.get();
        at = "sasl.mechanism";
        b.sasl(new dev.spillway.kafka.KafkaSpillSettings.Sasl(sa.oneOf("mechanism", "SCRAM-SHA-512", "PLAIN",
            "SCRAM-SHA-256", "SCRAM-SHA-512"), sa.requiredString("username"),
            existingFile(sa, "password_file", true).orElseThrow()));
        sa.finish();
      }
      at = "linger";
      b.linger(ks.duration("linger", Duration.ofMillis(dev.spillway.kafka.KafkaSpillSettings.Builder.DEFAULT_LINGER_MS)));
      at = "batch_bytes";
      b.batchBytes((int) ks.integer("batch_bytes", dev.spillway.kafka.KafkaSpillSettings.Builder.DEFAULT_BATCH_BYTES,
          1024, 64 << 20));
      at = "max_record_bytes";
      b.maxRecordBytes((int) ks.integer("max_record_bytes",
          dev.spillway.kafka.KafkaSpillSettings.Builder.DEFAULT_MAX_RECORD_BYTES, 64 << 10, 256 << 20));
      at = "delivery_timeout";
      b.deliveryTimeout(ks.duration("delivery_timeout",
          Duration.ofMillis(dev.spillway.kafka.KafkaSpillSettings.Builder.DEFAULT_DELIVERY_TIMEOUT_MS)));
      at = "producer_overrides";
      b.producerOverrides(ks.stringMap("producer_overrides"));
      at = "consumer_overrides";
      b.consumerOverrides(ks.stringMap("consumer_overrides"));
      Duration offerTimeout = ks.duration("offer_timeout", Duration.ofSeconds(5));
      ks.finish();
      return new ServerConfig.KafkaSpill(b.build(), offerTimeout);
    } catch (IllegalArgumentException e) {
      String msg = e.getMessage();
      int colon = msg.indexOf(": ");
      throw ks.errorAt(at, colon > 0 && msg.substring(0, colon).matches("[a-z_.]+") ? msg.substring(colon + 2) : msg);
    }
  }

  private ServerConfig.Keys keys(YamlSection keys) throws ConfigException {
    String provider = keys.oneOf("provider", "local", "local", "aws-kms", "aws-kms-rsa");
    Optional<Path> writer = keys.string("writer_keyset").map(this::path);
    Optional<Path> reader = keys.string("reader_keyset").map(this::path);
    Optional<Path> passphraseFile = existingFile(keys, "reader_keyset_passphrase_file", false);
    List<Path> previous = new ArrayList<>();
    for (String p : keys.stringList("previous_reader_keysets")) {
      previous.add(path(p));
    }
    // The key-record signing pair; for local keys they default to the files beside the keysets.
    Optional<Path> signer = keys.string("signer_keyset").map(this::path);
    Optional<Path> verifier = keys.string("verifier_keyset").map(this::path);
    Optional<YamlSection> kmsSection = keys.section("kms");
    Optional<ServerConfig.Kms> kms = Optional.empty();
    if (provider.equals("local")) {
      if (kmsSection.isPresent()) {
        throw keys.errorAt("kms", "is for provider aws-kms or aws-kms-rsa; provider is local");
      }
      if (writer.isEmpty() && reader.isEmpty()) {
        throw keys.errorHere("set writer_keyset (ingest) and/or reader_keyset (drain)");
      }
    } else {
      if (kmsSection.isEmpty()) {
        throw keys.errorHere("provider " + provider + " needs a kms block (key_id for ingest, key_arn for drain)");
      }
      if (writer.isPresent()) {
        throw keys.errorAt("writer_keyset", "is for provider local; with " + provider + " the writer uses kms.key_id");
      }
      if (reader.isPresent()) {
        throw keys.errorAt("reader_keyset", "is for provider local; a local keyset from before a move to "
            + provider + " goes in previous_reader_keysets");
      }
      kms = Optional.of(kms(kmsSection.get()));
    }
    if (passphraseFile.isPresent() && reader.isEmpty() && previous.isEmpty()) {
      throw keys.errorAt("reader_keyset_passphrase_file", "there is no reader keyset to open with it");
    }
    keys.finish();
    return new ServerConfig.Keys(provider, writer, reader, passphraseFile, List.copyOf(previous), kms,
        signer, verifier);
  }

  private ServerConfig.Kms kms(YamlSection k) throws ConfigException {
    Optional<String> keyId = k.string("key_id");
    Optional<String> keyArn = k.string("key_arn");
    if (keyArn.isPresent() && !isKeyArn(keyArn.get())) {
      throw k.errorAt("key_arn", "must be a full key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not an alias or id");
    }
    if (keyId.isEmpty() && keyArn.isEmpty()) {
      throw k.errorHere("set key_id (the writer's key, ingest) and/or key_arn (the reader's key ARN, drain)");
    }
    List<String> previousArns = k.stringList("previous_key_arns");
    for (String arn : previousArns) {
      if (!isKeyArn(arn)) {
        throw k.errorAt("previous_key_arns", "'" + arn + "' is not a full key ARN");
      }
    }
    Optional<String> region = k.string("region");
    if (region.isEmpty() && keyArn.isPresent()) {
      region = Optional.of(keyArn.get().split(":", -1)[3]); // a reader's client must be in its key's region
    }
    Optional<URI> endpoint = Optional.empty();
    if (k.has("endpoint")) {
      String raw = k.requiredString("endpoint");
      OutboundUrl url = OutboundUrl.parse(k, "endpoint", raw, raw);
      if (url.plaintext()) {
        // GenerateDataKey answers with the plaintext data key: never over plaintext off a laptop.
        if (!allowInsecureDev) {
          throw k.errorAt("endpoint", "a plaintext http:// KMS endpoint is refused (data keys would cross in the clear)");
        }
        if (!url.loopback()) {
          throw k.errorAt("endpoint", "the insecure development mode talks to a loopback KMS only");
        }
        warnings.add("KMS endpoint " + url + " is PLAINTEXT (insecure development mode)");
      }
      endpoint = Optional.of(url.toUri());
    }
    Duration connect = k.duration("connect_timeout", Duration.ofMillis(AwsKms.Builder.DEFAULT_CONNECT_TIMEOUT_MILLIS));
    Duration attempt = k.duration("attempt_timeout", Duration.ofMillis(AwsKms.Builder.DEFAULT_ATTEMPT_TIMEOUT_MILLIS));
    Duration call = k.duration("timeout", Duration.ofMillis(AwsKms.Builder.DEFAULT_CALL_TIMEOUT_MILLIS));
    if (attempt.compareTo(call) > 0) {
      throw k.errorAt("attempt_timeout", "must not exceed timeout");
    }
    if (connect.compareTo(attempt) > 0) {
      throw k.errorAt("connect_timeout", "must not exceed attempt_timeout");
    }
    int attempts = (int) k.integer("max_attempts", AwsKms.Builder.DEFAULT_MAX_ATTEMPTS, 1, 10);
    k.finish();
    return new ServerConfig.Kms(keyId, keyArn, List.copyOf(previousArns), region, endpoint, connect, attempt, call, attempts);
  }

  private static boolean isKeyArn(String s) {
    String[] p = s.split(":", -1);
    return p.length == 6 && p[0].equals("arn") && p[2].equals("kms") && !p[3].isEmpty()
        && p[5].startsWith("key/") && p[5].length() > 4;
  }

  private ServerConfig.Exporter exporter(Optional<YamlSection> section) throws ConfigException {
    exporterKey = "debug";
    if (section.isEmpty()) {
      warnings.add("no exporter configured: the debug exporter logs what drains (counts, ids, names)");
      return new ServerConfig.Exporter(Optional.empty());
    }
    YamlSection ex = section.get();
    // Exporter keys as the collector 0.165 names them: otlp_grpc and otlp_http (otlp and otlphttp
    // still accepted, as the collector does), debug; each optionally as a named instance TYPE/NAME.
    ex.expect(OTLP_GRPC_TYPES);
    ex.expect(OTLP_HTTP_TYPES);
    ex.expect("debug");
    List<String> configured = new ArrayList<>();
    for (String key : ex.keys()) {
      int slash = key.indexOf('/');
      String type = slash < 0 ? key : key.substring(0, slash);
      if (!List.of(OTLP_GRPC_TYPES).contains(type) && !List.of(OTLP_HTTP_TYPES).contains(type) && !type.equals("debug")) {
        continue; // finish() reports it, with the nearest exporter type
      }
      if (slash >= 0 && !INSTANCE_NAME.matcher(key.substring(slash + 1)).matches()) {
        ex.report(ex.errorAt(key, "a named exporter is TYPE/NAME with a NAME of letters, digits, '_', '-' or '.'"));
      }
      ex.expect(key);
      configured.add(key);
    }
    if (configured.isEmpty()) {
      ex.finish();
      warnings.add("no exporter configured: the debug exporter logs what drains (counts, ids, names)");
      return new ServerConfig.Exporter(Optional.empty());
    }
    if (configured.size() > 1) {
      throw ex.errorHere("configure one exporter (the pipeline is fixed: receivers -> buffer -> one exporter);"
          + " found " + String.join(", ", configured));
    }
    String key = configured.get(0);
    exporterKey = key;
    String type = key.contains("/") ? key.substring(0, key.indexOf('/')) : key;
    if (type.equals("debug")) {
      Optional<YamlSection> dbg = ex.section(key);
      if (dbg.isPresent()) {
        dbg.get().oneOf("verbosity", "basic", "basic", "normal", "detailed");
        dbg.get().finish();
      }
      ex.finish();
      return new ServerConfig.Exporter(Optional.empty());
    }
    if (type.equals("otlp") || type.equals("otlphttp")) {
      warnings.add("exporters." + key + ": the collector 0.165 names this exporter "
          + (type.equals("otlp") ? "otlp_grpc" : "otlp_http") + " (" + type + " still works)");
    }
    boolean grpcType = List.of(OTLP_GRPC_TYPES).contains(type);
    YamlSection o = ex.section(key).orElseThrow();
    ServerConfig.Protocol protocol =
        o.oneOf("protocol", grpcType ? "grpc" : "http/protobuf", "grpc", "http/protobuf")
                .equals("grpc")
            ? ServerConfig.Protocol.GRPC
            : ServerConfig.Protocol.HTTP_PROTOBUF;
    exporterKey = null; // set again below once the block is read
    String rawEndpoint = o.requiredString("endpoint");
    Map<String, String> headers = o.stringMap("headers");
    boolean gzip = o.oneOf("compression", "gzip", "gzip", "none").equals("gzip");
    Duration timeout = o.duration("timeout", Duration.ofSeconds(10));
    ClientTlsSettings tls = new ClientTlsSettings(Optional.empty(), Optional.empty(), Optional.empty(), false, Optional.empty());
    Optional<YamlSection> t = o.section("tls");
    if (t.isPresent()) {
      Optional<Path> ca = existingFile(t.get(), "ca_file", false);
      Optional<Path> cert = existingFile(t.get(), "cert_file", false);
      Optional<Path> keyFile = existingFile(t.get(), "key_file", false);
      if (cert.isPresent() != keyFile.isPresent()) {
        throw t.get().errorHere("cert_file and key_file go together");
      }
      boolean insecure = t.get().bool("insecure", false);
      Optional<String> sni = t.get().string("server_name_override");
      t.get().finish();
      tls = new ClientTlsSettings(ca, cert, keyFile, insecure, sni);
    }
    URI endpoint = exporterEndpoint(o, rawEndpoint, protocol, tls.insecure());
    ServerConfig.Retry retry = ServerConfig.Retry.DEFAULT;
    Optional<YamlSection> r = o.section("retry_on_failure");
    if (r.isPresent()) {
      boolean enabled = r.get().bool("enabled", true);
      Duration initial = r.get().duration("initial_interval", retry.initialInterval());
      Duration max = r.get().duration("max_interval", retry.maxInterval());
      Duration elapsed = r.get().duration("max_elapsed_time", retry.maxElapsedTime());
      if (max.compareTo(initial) < 0) {
        throw r.get().errorAt("max_interval", "must be at least initial_interval");
      }
      r.get().finish();
      retry = new ServerConfig.Retry(enabled, initial, max, elapsed);
    }
    // The spill buffer is the queue: of the collector's sending_queue only num_consumers (exports
    // in flight) means something here; the rest is accepted for pasted blocks.
    int numConsumers = ServerConfig.Otlp.DEFAULT_NUM_CONSUMERS;
    Optional<YamlSection> q = o.section("sending_queue");
    if (q.isPresent()) {
      numConsumers = (int) q.get().integer("num_consumers", numConsumers,
          ServerConfig.Otlp.MIN_NUM_CONSUMERS, ServerConfig.Otlp.MAX_NUM_CONSUMERS);
    }
    long maxSpans = o.integer("send_batch_max_size", 0, 0, 1_000_000_000);
    long maxBytes = o.integer("send_batch_max_bytes", ServerConfig.Otlp.DEFAULT_MAX_REQUEST_BYTES, 0, 1L << 30);
    Map<OtlpWire.Signal, URI> httpEndpoints = Map.of();
    if (protocol == ServerConfig.Protocol.HTTP_PROTOBUF) {
      httpEndpoints = new EnumMap<>(ServerConfig.Otlp.signalUrls(endpoint));
      for (OtlpWire.Signal s : OtlpWire.Signal.values()) {
        String k = s.label() + "_endpoint";
        Optional<String> raw = o.string(k);
        if (raw.isPresent()) {
          httpEndpoints.put(s, signalEndpoint(o, k, raw.get(), tls.insecure()));
        }
      }
    } else {
      for (OtlpWire.Signal s : OtlpWire.Signal.values()) {
        if (o.has(s.label() + "_endpoint")) {
          o.expect(s.label() + "_endpoint"); // reported here, not again as unknown
          o.report(o.errorAt(s.label() + "_endpoint", "is an otlp_http setting; a gRPC exporter sends every signal to endpoint"));
        }
      }
    }
    o.finish();
    ex.finish();
    exporterKey = key;
    return new ServerConfig.Exporter(Optional.of(new ServerConfig.Otlp(
        endpoint, protocol, headers, gzip, timeout, tls, retry, maxSpans, maxBytes, Map.copyOf(httpEndpoints),
        numConsumers)));
  }

  /**
   * {@code traces_endpoint}, {@code metrics_endpoint}, {@code logs_endpoint}: a full URL used as it
   * is (the collector's otlphttp exporter appends nothing to these), under the same TLS rules as
   * {@code endpoint}.
   */
  private URI signalEndpoint(YamlSection o, String key, String raw, boolean insecure) throws ConfigException {
    OutboundUrl url = exportUrl(o, key, raw, raw, insecure);
    return url.withPath(url.rawPath().isEmpty() ? "/" : url.rawPath()).toUri();
  }

  /**
   * {@code endpoint}: {@code host:port} or a URL for gRPC; a base URL for http/protobuf, to which
   * {@code /v1/traces} is appended unless it ends with it, as the collector's otlphttp exporter does.
   */
  private URI exporterEndpoint(YamlSection o, String raw, ServerConfig.Protocol protocol, boolean insecure)
      throws ConfigException {
    if (protocol == ServerConfig.Protocol.HTTP_PROTOBUF && !raw.contains("://")) {
      throw o.errorAt("endpoint", "an http/protobuf endpoint needs a scheme (https://host:port)");
    }
    OutboundUrl url = exportUrl(o, "endpoint", raw, OutboundUrl.withDefaultScheme(raw, insecure), insecure);
    return (protocol == ServerConfig.Protocol.HTTP_PROTOBUF ? url.withPathEnding("/v1/traces") : url).toUri();
  }

  /**
   * A URL the exporter sends to: https, or in the insecure development mode http to a loopback
   * address, which is then named in a warning.
   */
  private OutboundUrl exportUrl(YamlSection o, String key, String raw, String url, boolean insecure)
      throws ConfigException {
    OutboundUrl u = OutboundUrl.parse(o, key, raw, url);
    if (insecure && !u.plaintext()) {
      throw o.errorAt(key, "tls.insecure contradicts an https:// endpoint");
    }
    if (u.plaintext()) {
      if (!allowInsecureDev) {
        throw o.errorAt(key, "plaintext export is refused (use https://, or tls with ca_file)");
      }
      if (!u.loopback()) {
        throw o.errorAt(key, "the insecure development mode exports to loopback only");
      }
      warnings.add("exporter sends PLAINTEXT to " + u + " (" + key + ", insecure development mode)");
    }
    return u;
  }

  /**
   * {@code service.pipelines}, in the collector's shape: one pipeline per signal ({@code traces},
   * {@code metrics}, {@code logs}, or {@code TYPE/NAME}), each {@code receivers: [otlp]} and
   * {@code exporters: [<the exporter>]}. The pipeline itself is fixed (receivers → buffer → the one
   * exporter); what the block chooses is which signals are accepted. No block: all three.
   */
  private Set<OtlpWire.Signal> signals(Optional<YamlSection> service) throws ConfigException {
    if (service.isEmpty()) {
      return EnumSet.allOf(OtlpWire.Signal.class);
    }
    // service.telemetry was read by telemetrySection, before this finishes the block.
    service.get().section("extensions");
    Optional<YamlSection> pipelines = service.get().section("pipelines");
    service.get().finish();
    if (pipelines.isEmpty()) {
      return EnumSet.allOf(OtlpWire.Signal.class);
    }
    YamlSection p = pipelines.get();
    p.expect("traces", "metrics", "logs");
    Set<OtlpWire.Signal> signals = EnumSet.noneOf(OtlpWire.Signal.class);
    for (String key : p.keys()) {
      int slash = key.indexOf('/');
      String type = slash < 0 ? key : key.substring(0, slash);
      OtlpWire.Signal signal = null;
      for (OtlpWire.Signal s : OtlpWire.Signal.values()) {
        if (s.label().equals(type)) {
          signal = s;
        }
      }
      if (signal == null) {
        continue; // finish() names it, with the nearest signal
      }
      p.expect(key);
      if (!signals.add(signal)) {
        p.report(p.errorAt(key, "a second " + type + " pipeline; Spillway runs one pipeline per signal"));
      }
      YamlSection one = p.section(key).orElseThrow();
      List<String> receivers = one.stringList("receivers");
      if (receivers.isEmpty() || !receivers.stream().allMatch(r -> r.equals("otlp") || r.startsWith("otlp/"))) {
        one.report(one.errorAt("receivers", "must be [otlp]: Spillway's only receiver is otlp"));
      }
      List<String> exporters = one.stringList("exporters");
      if (exporters.size() != 1 || (exporterKey != null && !exporters.get(0).equals(exporterKey))) {
        one.report(one.errorAt("exporters", "must name the one configured exporter"
            + (exporterKey == null ? "" : ", [" + exporterKey + "]")));
      }
      if (!one.stringList("processors").isEmpty()) {
        one.report(one.errorAt("processors", "Spillway runs no processors; leave this out"));
      }
      one.finish();
    }
    p.finish();
    if (signals.isEmpty()) {
      throw p.errorHere("name at least one of traces, metrics or logs (or leave service.pipelines out for all three)");
    }
    return signals;
  }

  /**
   * The daemon's own telemetry block: top-level {@code telemetry}, or {@code service.telemetry}
   * where the collector keeps it (so a collector's block can be pasted), not both.
   */
  private static Optional<YamlSection> telemetrySection(Optional<YamlSection> direct, Optional<YamlSection> service)
      throws ConfigException {
    if (service.isEmpty()) {
      return direct;
    }
    Optional<YamlSection> nested = service.get().section("telemetry");
    if (nested.isPresent() && direct.isPresent()) {
      throw service.get().errorAt("telemetry",
          "the daemon's telemetry is configured twice (telemetry and service.telemetry); keep one");
    }
    return nested.isPresent() ? nested : direct;
  }

  private ServerConfig.Metrics metrics(Optional<YamlSection> telemetry) throws ConfigException {
    Endpoint def = Endpoint.parse("127.0.0.1:8888");
    if (telemetry.isEmpty()) {
      return new ServerConfig.Metrics(true, def, Optional.empty());
    }
    Optional<YamlSection> m = telemetry.get().section("metrics");
    telemetry.get().section("logs");
    telemetry.get().finish();
    if (m.isEmpty()) {
      return new ServerConfig.Metrics(true, def, Optional.empty());
    }
    String level = m.get().oneOf("level", "normal", "none", "basic", "normal", "detailed");
    Endpoint endpoint = endpoint(m.get(), "endpoint", "127.0.0.1:8888");
    Optional<TlsSettings> tls = Optional.empty();
    Optional<YamlSection> t = m.get().section("tls");
    if (t.isPresent()) {
      tls = Optional.of(serverTls(t.get()));
    } else if (!endpoint.isLoopback()) {
      throw m.get().errorAt("endpoint", "a metrics endpoint off loopback needs a tls block");
    }
    List<MetricReaderSettings> readers = new ArrayList<>();
    for (YamlSection r : m.get().sectionList("readers")) {
      try {
        readers.add(metricReader(r));
      } catch (ConfigException e) {
        r.report(e);
      }
    }
    if (level.equals("none") && !readers.isEmpty()) {
      m.get().report(m.get().errorAt("level", "level: none turns the daemon's metrics off, but readers are configured;"
          + " remove one"));
    }
    m.get().finish();
    return new ServerConfig.Metrics(!level.equals("none"), endpoint, tls, List.copyOf(readers));
  }

  /**
   * One {@code readers} entry, as the collector 0.165 spells it: {@code periodic: {interval,
   * timeout, exporter: {otlp: {protocol, endpoint, certificate, client_certificate, client_key,
   * headers, compression, timeout, insecure}}}}. Times are milliseconds as in the collector, or a
   * duration such as {@code 10s}. TLS fails closed as the exporter's does.
   */
  private MetricReaderSettings metricReader(YamlSection r) throws ConfigException {
    if (r.has("pull")) {
      r.expect("pull");
      throw r.errorAt("pull", "the daemon serves its pull endpoint at telemetry.metrics.endpoint;"
          + " readers here are periodic (OTLP push) only");
    }
    YamlSection p = r.section("periodic").orElseThrow(() -> r.errorAt("periodic", "is required (periodic: {exporter: {otlp: …}})"));
    r.finish();
    Duration interval = milliseconds(p, "interval", MetricReaderSettings.DEFAULT_INTERVAL);
    Duration timeout = milliseconds(p, "timeout", MetricReaderSettings.DEFAULT_TIMEOUT);
    if (interval.toMillis() < 100) {
      throw p.errorAt("interval", "must be at least 100 ms");
    }
    YamlSection ex = p.section("exporter").orElseThrow(() -> p.errorAt("exporter", "is required (exporter: {otlp: …})"));
    p.finish();
    YamlSection o = ex.section("otlp").orElseThrow(() -> ex.errorAt("otlp", "is required: the daemon pushes over OTLP only"));
    ex.finish();
    Optional<String> protocolName = o.string("protocol");
    if (protocolName.isEmpty()) {
      o.expect("protocol");
      throw o.errorAt("protocol", "is required: grpc or http/protobuf");
    }
    ServerConfig.Protocol protocol = switch (protocolName.get()) {
      case "grpc" -> ServerConfig.Protocol.GRPC;
      case "http/protobuf" -> ServerConfig.Protocol.HTTP_PROTOBUF;
      default -> throw o.errorAt("protocol", "'" + protocolName.get() + "' is not one of grpc, http/protobuf");
    };
    String rawEndpoint = o.requiredString("endpoint");
    Optional<Path> ca = existingFile(o, "certificate", false);
    Optional<Path> clientCert = existingFile(o, "client_certificate", false);
    Optional<Path> clientKey = existingFile(o, "client_key", false);
    if (clientCert.isPresent() != clientKey.isPresent()) {
      // A typo of the missing one (client_kye) is reported by finish() as the unknown key it is.
      String missing = clientCert.isPresent() ? "client_key" : "client_certificate";
      o.reportMissing(missing, "client_certificate and client_key go together (mTLS); " + missing + " is missing");
    }
    java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
    for (YamlSection h : o.sectionList("headers")) {
      String name = h.requiredString("name");
      headers.put(name, h.string("value", ""));
      h.finish();
    }
    Optional<String> headersList = o.string("headers_list");
    if (headersList.isPresent()) {
      for (String pair : headersList.get().split(",")) {
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          throw o.errorAt("headers_list", "expected name=value[,name=value…]");
        }
        headers.putIfAbsent(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
      }
    }
    boolean gzip = o.oneOf("compression", "gzip", "gzip", "none").equals("gzip");
    Duration exportTimeout = milliseconds(o, "timeout", MetricReaderSettings.DEFAULT_EXPORT_TIMEOUT);
    boolean insecure = o.bool("insecure", false);
    o.oneOf("temporality_preference", "cumulative", "cumulative"); // Prometheus counters are cumulative
    o.oneOf("default_histogram_aggregation", "explicit_bucket_histogram", "explicit_bucket_histogram");
    o.finish();
    OutboundUrl url = metricsEndpoint(o, rawEndpoint, protocol, insecure);
    URI endpoint = url.toUri();
    if (url.plaintext()) {
      if (ca.isPresent() || clientCert.isPresent()) {
        throw o.errorAt("endpoint", "certificate/client_certificate are set but the endpoint is plaintext http://");
      }
      if (!allowInsecureDev) {
        throw o.errorAt("endpoint", "plaintext telemetry export is refused (use https://, with certificate and"
            + " client_certificate/client_key for mTLS)");
      }
      if (!url.loopback()) {
        throw o.errorAt("endpoint", "the insecure development mode pushes telemetry to loopback only");
      }
      warnings.add("telemetry pushed as PLAINTEXT to " + endpoint + " (insecure development mode)");
    } else if (clientCert.isEmpty()) {
      warnings.add(o.path() + ": no client_certificate: the telemetry endpoint cannot authenticate this daemon (no mTLS)");
    }
    return new MetricReaderSettings(interval, timeout, protocol, endpoint, ca, clientCert, clientKey,
        java.util.Map.copyOf(headers), gzip, exportTimeout);
  }

  /** The collector writes these times as integer milliseconds; a duration such as {@code 10s} also works. */
  private static Duration milliseconds(YamlSection s, String key, Duration def) throws ConfigException {
    Optional<String> v = s.string(key);
    if (v.isPresent() && v.get().trim().matches("\\d+")) {
      long ms = s.integer(key, def.toMillis(), 1, 24L * 3600 * 1000);
      return Duration.ofMillis(ms);
    }
    return s.duration(key, def);
  }

  /**
   * As the collector: an endpoint without a scheme is https (http with {@code insecure: true});
   * http/protobuf gets {@code /v1/metrics} unless the path already ends with it.
   */
  private static OutboundUrl metricsEndpoint(YamlSection o, String raw, ServerConfig.Protocol protocol, boolean insecure)
      throws ConfigException {
    OutboundUrl url = OutboundUrl.parse(o, "endpoint", raw, OutboundUrl.withDefaultScheme(raw, insecure));
    if (insecure && !url.plaintext()) { // the parsed scheme, so HTTPS:// contradicts it too
      throw o.errorAt("insecure", "insecure: true contradicts an https:// endpoint");
    }
    return protocol == ServerConfig.Protocol.GRPC ? url.withPath("") : url.withPathEnding("/v1/metrics");
  }

  private Endpoint endpoint(YamlSection s, String key, String def) throws ConfigException {
    String v = s.string(key, def);
    try {
      return Endpoint.parse(v);
    } catch (IllegalArgumentException e) {
      throw s.errorAt(key, e.getMessage());
    }
  }

  private Optional<Path> existingFile(YamlSection s, String key, boolean required)
      throws ConfigException {
    Optional<String> v = required ? Optional.of(s.requiredString(key)) : s.string(key);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    Path p = path(v.get());
    if (!Files.isRegularFile(p)) {
      throw s.errorAt(key, p + " does not exist or is not a file");
    }
    if (!Files.isReadable(p)) {
      throw s.errorAt(key, p + " is not readable");
    }
    return Optional.of(p);
  }

  private Path path(String value) {
    Path p = Path.of(value);
    return (p.isAbsolute() || baseDir == null ? p : baseDir.resolve(p)).normalize();
  }
}
