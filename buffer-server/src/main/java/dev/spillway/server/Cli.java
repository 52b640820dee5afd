package dev.spillway.server;

import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.keys.KeysetProtection;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.config.ConfigException;
import dev.spillway.server.config.ConfigLoader;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.tls.DevCertificates;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/** The spillway command line. Exit codes: 0 ok, 1 failure, 2 usage error. */
final class Cli {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;

  private final PrintStream out;
  private final PrintStream err;

  Cli(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  int run(String[] args) {
    if (args.length == 0) {
      usage();
      return USAGE;
    }
    List<String> rest = List.of(args).subList(1, args.length);
    try {
      return switch (args[0]) {
        case "serve" -> serve(rest);
        case "keys" -> keys(rest);
        case "certs" -> certs(rest);
        case "config" -> config(rest);
        case "spill" -> spill(rest);
        case "audit" -> dev.spillway.server.audit.AuditCommand.run(rest.toArray(String[]::new), out, err);
        case "version", "--version" -> {
          out.println("spillway " + version());
          yield OK;
        }
        case "help", "--help", "-h" -> {
          usage();
          yield OK;
        }
        default -> {
          err.println("unknown command '" + args[0] + "'");
          usage();
          yield USAGE;
        }
      };
    } catch (UsageException e) {
      err.println(e.getMessage());
      return USAGE;
    } catch (ConfigException e) {
      err.println("configuration error: " + e.getMessage());
      return FAILED;
    } catch (IOException | RuntimeException e) {
      err.println("error: " + e.getMessage());
      return FAILED;
    }
  }

  private void usage() {
    err.println("""
        usage: java -jar spillway.jar COMMAND
          serve [--config FILE] [--role both|ingest|drain] [--state-dir DIR] [--insecure-dev]
                 without --config: the quick start (dev certificates, local keys, loopback, debug exporter)
          keys init --out DIR [--passphrase-file FILE]
                                         writer.json (public) and reader.json (private, optionally encrypted)
          keys rotate --dir DIR [--passphrase-file FILE]
                                         new primary key pair; reader.json keeps the old private keys
          certs dev --out DIR [--days N] development CA, server and client certificates (PKCS#8 keys)
          config validate --config FILE [--insecure-dev]
          spill inspect --dir DIR [--reader-key FILE] [--passphrase-file FILE] [--queue NAME]
          audit [--format text|json|sarif] [--probe HOST:PORT]... [--skip RULE-ID]... FILE...
                 the article's verification checklist over configs, env files, policies (docs/AUDIT.md)
          version""");
  }

  private int serve(List<String> args) throws IOException, ConfigException, UsageException {
    Map<String, String> o = options(args, Set.of("--config", "--role", "--state-dir"), Set.of("--insecure-dev"));
    Role role = Role.fromName(o.getOrDefault("--role", "both"));
    boolean dev = o.containsKey("--insecure-dev");
    ServerConfig config;
    Path state = null;
    if (o.containsKey("--config")) {
      config = new ConfigLoader(System::getenv, dev).load(Path.of(o.get("--config")));
    } else {
      state = o.containsKey("--state-dir") ? Path.of(o.get("--state-dir")) : QuickStart.defaultStateDir();
      String yaml = QuickStart.prepare(state, out);
      config = new ConfigLoader(System::getenv, false).parse(yaml, "<built-in quick start configuration>", state);
    }
    CountDownLatch stop = new CountDownLatch(1);
    installSignalHandlers(stop);
    Daemon daemon = Daemon.start(config, role, BufferOpener.spillBuffer());
    Thread hook = new Thread(daemon::close, "spillway-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    if (state != null) {
      QuickStart.printEnvironment(state, out);
    }
    try {
      stop.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    daemon.close();
    return OK;
  }

  /** SIGTERM and SIGINT end {@code serve} in order (seal memory to disk) with exit code 0. */
  @SuppressWarnings("removal")
  private static void installSignalHandlers(CountDownLatch stop) {
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), s -> stop.countDown());
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        // Not available on this platform: the shutdown hook still seals, with the JVM's exit code.
      }
    }
  }

  private int keys(List<String> args) throws IOException, UsageException {
    String use = "usage: keys init --out DIR [--passphrase-file FILE] | keys rotate --dir DIR [--passphrase-file FILE]";
    if (args.isEmpty() || !(args.get(0).equals("init") || args.get(0).equals("rotate"))) {
      throw new UsageException(use);
    }
    boolean init = args.get(0).equals("init");
    Map<String, String> o = options(args.subList(1, args.size()),
        Set.of(init ? "--out" : "--dir", "--passphrase-file"), Set.of());
    Path dir = Path.of(required(o, init ? "--out" : "--dir"));
    KeysetProtection protection = KeysetProtection.none();
    if (o.containsKey("--passphrase-file")) {
      protection = KeysetPassphrase.fromFile(Path.of(o.get("--passphrase-file")), w -> err.println("warning: " + w));
    } else if (!init) {
      protection = KeysetPassphrase.forReader(dir.resolve(LocalKeys.READER_FILE), Optional.empty(), System::getenv,
          w -> err.println("warning: " + w));
    }
    if (init) {
      LocalKeys.init(dir, protection);
    } else {
      LocalKeys.rotate(dir, protection);
    }
    String protectedBy = o.containsKey("--passphrase-file") ? ", encrypted with the passphrase" : "";
    out.println((init ? "wrote " : "rotated: new primary key in ") + dir.resolve(LocalKeys.WRITER_FILE)
        + " (public: give it to ingest)");
    out.println((init ? "wrote " : "rotated: every private key kept in ") + dir.resolve(LocalKeys.READER_FILE)
        + " (private" + protectedBy + ": give it only to drain)");
    out.println((init ? "wrote " : "rotated: new signing key in ") + dir.resolve(LocalKeys.SIGNER_FILE)
        + " (private: give it only to ingest, beside writer.json)");
    out.println((init ? "wrote " : "rotated: every public signing key kept in ") + dir.resolve(LocalKeys.VERIFIER_FILE)
        + " (public: give it to drain, beside reader.json)");
    return OK;
  }

  private int certs(List<String> args) throws IOException, UsageException {
    if (args.isEmpty() || !args.get(0).equals("dev")) {
      throw new UsageException("usage: certs dev --out DIR [--days N]");
    }
    Map<String, String> o = options(args.subList(1, args.size()), Set.of("--out", "--days"), Set.of());
    Path dir = Path.of(required(o, "--out"));
    int days;
    try {
      days = Integer.parseInt(o.getOrDefault("--days", "365"));
    } catch (NumberFormatException e) {
      throw new UsageException("--days must be a number");
    }
    DevCertificates.write(dir, Duration.ofDays(days));
    out.println("wrote ca.crt, ca.key, server.crt, server.key, client.crt, client.key to " + dir
        + " (development only; server.crt is for localhost, 127.0.0.1 and ::1)");
    return OK;
  }

  private int config(List<String> args) throws ConfigException, UsageException {
    if (args.isEmpty() || !args.get(0).equals("validate")) {
      throw new UsageException("usage: config validate --config FILE");
    }
    Map<String, String> o = options(args.subList(1, args.size()), Set.of("--config"), Set.of("--insecure-dev"));
    ServerConfig c = new ConfigLoader(System::getenv, o.containsKey("--insecure-dev")).load(Path.of(required(o, "--config")));
    for (String w : c.warnings()) {
      out.println("warning: " + w);
    }
    out.println(c.source() + ": valid");
    return OK;
  }

  private int spill(List<String> args) throws IOException, UsageException {
    String use = "usage: spill inspect --dir DIR [--reader-key FILE] [--passphrase-file FILE] [--queue NAME]";
    if (args.isEmpty() || !args.get(0).equals("inspect")) {
      throw new UsageException(use);
    }
    Map<String, String> o = options(args.subList(1, args.size()),
        Set.of("--dir", "--reader-key", "--passphrase-file", "--queue"), Set.of());
    return new SpillInspectCommand(out, err, System::getenv).run(
        Path.of(required(o, "--dir")),
        Optional.ofNullable(o.get("--reader-key")).map(Path::of),
        Optional.ofNullable(o.get("--passphrase-file")).map(Path::of),
        o.getOrDefault("--queue", SpillBufferBuilder.DEFAULT_QUEUE_NAME));
  }

  private static String required(Map<String, String> o, String key) throws UsageException {
    String v = o.get(key);
    if (v == null) {
      throw new UsageException(key + " is required");
    }
    return v;
  }

  private static Map<String, String> options(List<String> args, Set<String> withValue, Set<String> flags)
      throws UsageException {
    Map<String, String> o = new HashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (flags.contains(a)) {
        o.put(a, "true");
      } else if (withValue.contains(a)) {
        if (i + 1 >= args.size()) {
          throw new UsageException(a + " needs a value");
        }
        o.put(a, args.get(++i));
      } else {
        throw new UsageException("unknown option '" + a + "'");
      }
    }
    return o;
  }

  static String version() {
    String v = Cli.class.getPackage().getImplementationVersion();
    return v == null ? "development build" : v;
  }

  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }
}
