package dev.spillway.kafka.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.SslConfigs;

/**
 * A real Apache Kafka cluster in KRaft mode for tests: each node is a combined broker and
 * controller in a child JVM started from the {@code kafka_2.13} jars on the test class path (no
 * Docker, no download). Every listener, the controllers' included, is TLS on 127.0.0.1 with client
 * certificates required, signed by a throw-away {@link KafkaPki}. Each node's output goes to
 * {@code DIR/node-N.log}; {@link #kill} ends one node with SIGKILL; {@link #close} ends them all.
 */
public final class KafkaCluster implements AutoCloseable {
  private static final Duration READY_WITHIN = Duration.ofSeconds(90);

  private final Path dir;
  private final KafkaPki pki;
  private final List<Node> nodes;
  private final String clusterId = Uuid.randomUuid().toString();

  private record Node(int id, int port, int controllerPort, Path config, Path logDir, Path output, Process[] process) {}

  private KafkaCluster(Path dir, KafkaPki pki, List<Node> nodes) {
    this.dir = dir;
    this.pki = pki;
    this.nodes = nodes;
  }

  private static KafkaCluster shared;

  /**
   * One single-node cluster for every test of this JVM that does not stop brokers: started on
   * first use (about 20 s), ended when the JVM exits.
   */
  public static synchronized KafkaCluster shared() throws IOException, InterruptedException {
    if (shared == null) {
      Path dir = Files.createTempDirectory("spillway-kafka-");
      shared = start(dir, 1);
      KafkaCluster c = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        c.close();
        deleteTree(dir);
      }, "kafka-test-cluster-stop"));
    }
    return shared;
  }

  private static void deleteTree(Path dir) {
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temp dir left behind
    }
  }

  /** Formats and starts {@code size} nodes under {@code dir} and waits until all are brokers of one cluster. */
  public static KafkaCluster start(Path dir, int size) throws IOException, InterruptedException {
    KafkaPki pki = KafkaPki.create(dir.resolve("pki"), "spillway-test-kafka-ca");
    List<Node> nodes = new ArrayList<>();
    for (int id = 1; id <= size; id++) {
      nodes.add(new Node(id, freePort(), freePort(), dir.resolve("node-" + id + ".properties"),
          dir.resolve("node-" + id + "-data"), dir.resolve("node-" + id + ".log"), new Process[1]));
    }
    KafkaCluster cluster = new KafkaCluster(dir, pki, nodes);
    try {
      Files.writeString(dir.resolve("log4j2.properties"), """
          rootLogger.level = WARN
          rootLogger.appenderRef.out.ref = out
          appender.out.type = Console
          appender.out.name = out
          appender.out.layout.type = PatternLayout
          appender.out.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1} %m%n
          """);
      for (Node n : nodes) {
        cluster.writeConfig(n);
        cluster.run(n, true);
      }
      for (Node n : nodes) {
        cluster.run(n, false);
      }
      cluster.awaitBrokers(size);
      return cluster;
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** {@code host:port,...} of every node, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return nodes.stream().map(n -> "127.0.0.1:" + n.port()).collect(Collectors.joining(","));
  }

  /** The authority that signed every node's certificate: mint client key stores with it. */
  public KafkaPki pki() {
    return pki;
  }

  /** Client settings for a TLS connection that presents a certificate named {@code clientName}. */
  public Map<String, Object> clientConfig(String clientName) throws IOException {
    Map<String, Object> c = new HashMap<>();
    c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SSL");
    c.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, pki.trustStore().toString());
    c.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, KafkaPki.PASSWORD);
    c.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
    Path ks = pki.keyStore(clientName);
    c.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, ks.toString());
    c.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, KafkaPki.PASSWORD);
    c.put(SslConfigs.SSL_KEY_PASSWORD_CONFIG, KafkaPki.PASSWORD);
    c.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PKCS12");
    return c;
  }

  /** Where node {@code id} (1-based) keeps its partitions: search it for plaintext. */
  public Path logDir(int id) {
    return node(id).logDir();
  }

  /** Files in any node's data directory that hold {@code needle}: plaintext that reached the brokers' disks. */
  public List<Path> filesHolding(byte[] needle) throws IOException {
    List<Path> hits = new ArrayList<>();
    for (Node n : nodes) {
      try (var files = Files.walk(n.logDir())) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          if (holds(Files.readAllBytes(f), needle)) {
            hits.add(f);
          }
        }
      }
    }
    return hits;
  }

  private static boolean holds(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /** How many nodes the cluster has. */
  public int size() {
    return nodes.size();
  }

  /** The TLS port of node {@code id}. */
  public int port(int id) {
    return node(id).port();
  }

  /** The process id of node {@code id} (1-based), to read its CPU time; -1 if it is not running. */
  public long pid(int id) {
    Process p = node(id).process()[0];
    return p != null && p.isAlive() ? p.pid() : -1;
  }

  /** Ends node {@code id} with SIGKILL and waits for it to be gone. */
  public void kill(int id) throws InterruptedException {
    Process p = node(id).process()[0];
    if (p != null && p.isAlive()) {
      p.toHandle().destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Starts a killed node again on its ports and data, and waits until every node is a broker. */
  public void restart(int id) throws IOException, InterruptedException {
    run(node(id), false);
    awaitBrokers(nodes.size());
  }

  /** The output of node {@code id} so far, for a failure message. */
  public String output(int id) {
    try {
      return Files.readString(node(id).output(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    for (Node n : nodes) {
      try {
        kill(n.id());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private Node node(int id) {
    return nodes.get(id - 1);
  }

  private void writeConfig(Node n) throws IOException {
    Path keyStore = pki.keyStore("kafka-node-" + n.id());
    String voters = nodes.stream().map(o -> o.id() + "@127.0.0.1:" + o.controllerPort()).collect(Collectors.joining(","));
    int replication = Math.min(3, nodes.size());
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", Integer.toString(n.id()));
    p.put("controller.quorum.voters", voters);
    p.put("listeners", "SSL://127.0.0.1:" + n.port() + ",CONTROLLER://127.0.0.1:" + n.controllerPort());
    p.put("advertised.listeners", "SSL://127.0.0.1:" + n.port());
    p.put("listener.security.protocol.map", "SSL:SSL,CONTROLLER:SSL");
    p.put("inter.broker.listener.name", "SSL");
    p.put("controller.listener.names", "CONTROLLER");
    p.put("log.dirs", n.logDir().toString());
    p.put("ssl.keystore.type", "PKCS12");
    p.put("ssl.keystore.location", keyStore.toString());
    p.put("ssl.keystore.password", KafkaPki.PASSWORD);
    p.put("ssl.key.password", KafkaPki.PASSWORD);
    p.put("ssl.truststore.type", "PKCS12");
    p.put("ssl.truststore.location", pki.trustStore().toString());
    p.put("ssl.truststore.password", KafkaPki.PASSWORD);
    p.put("ssl.client.auth", "required");
    p.put("offsets.topic.replication.factor", Integer.toString(replication));
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", Integer.toString(replication));
    p.put("transaction.state.log.min.isr", Integer.toString(Math.min(2, replication)));
    p.put("share.coordinator.state.topic.replication.factor", Integer.toString(replication));
    p.put("share.coordinator.state.topic.min.isr", Integer.toString(Math.min(2, replication)));
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("auto.create.topics.enable", "false");
    p.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
    try (var out = Files.newBufferedWriter(n.config())) {
      p.store(out, "Spillway test node " + n.id());
    }
  }

  /** Formats the node's storage ({@code format}) or starts the broker, in a child JVM. */
  private void run(Node n, boolean format) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add(format ? "-Xmx128m" : "-Xmx384m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-Dlog4j2.configurationFile=" + dir.resolve("log4j2.properties"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    if (format) {
      cmd.addAll(List.of("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", n.config().toString()));
    } else {
      cmd.addAll(List.of("kafka.Kafka", n.config().toString()));
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(n.output().toFile()));
    Process p = pb.start();
    if (format) {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.toHandle().destroyForcibly();
        throw new IOException("formatting Kafka node " + n.id() + " failed:\n" + output(n.id()));
      }
    } else {
      n.process()[0] = p;
    }
  }

  private void awaitBrokers(int size) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + READY_WITHIN.toNanos();
    Map<String, Object> c = clientConfig("spillway-test-admin");
    c.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    c.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000);
    String last = "no answer";
    try (Admin admin = Admin.create(c)) {
      while (System.nanoTime() < deadline) {
        for (Node n : nodes) {
          if (!n.process()[0].isAlive()) {
            throw new IOException("Kafka node " + n.id() + " exited:\n" + output(n.id()));
          }
        }
        try {
          int seen = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
          if (seen == size) {
            return;
          }
          last = seen + " of " + size + " brokers";
        } catch (ExecutionException | TimeoutException e) {
          last = e.toString();
        }
        Thread.sleep(250);
      }
    }
    throw new IOException("Kafka cluster not ready within " + READY_WITHIN + " (" + last + "):\n" + output(1));
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
