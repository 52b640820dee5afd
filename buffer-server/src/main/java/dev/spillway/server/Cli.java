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
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The spillway command line, on picocli: every command and subcommand has {@code --help}, {@code
 * spillway generate-completion} prints a bash/zsh completion script. Exit codes: 0 ok, 1 failure,
 * 2 usage error. Results go to {@code out}; errors, warnings and help for a wrong call to {@code
 * err}. {@code audit} parses its own arguments (docs/AUDIT.md).
 */
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
    if (args.length > 0 && args[0].equals("audit")) {
      // The audit command keeps its own parser, flags and exit codes.
      return dev.spillway.server.audit.AuditCommand.run(List.of(args).subList(1, args.length).toArray(String[]::new),
          out, err);
    }
    CommandLine cl = commandLine();
    cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
    cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof ConfigException c) {
        if (c.problems().size() == 1) {
          err.println("configuration error: " + c.getMessage());
        } else {
          err.println("configuration errors (" + c.problems().size() + "):");
          c.problems().forEach(p -> err.println("  " + p));
        }
        return FAILED;
      }
      if (e instanceof IOException || e instanceof RuntimeException) {
        err.println("error: " + e.getMessage());
        return FAILED;
      }
      throw e;
    });
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  /** The command tree; subcommands are instances so they can reach {@link #out} and {@link #err}. */
  CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Root());
    cl.addSubcommand("serve", new Serve());
    CommandLine keys = new CommandLine(new Keys());
    keys.addSubcommand("init", new KeysInit());
    keys.addSubcommand("rotate", new KeysRotate());
    cl.addSubcommand("keys", keys);
    CommandLine certs = new CommandLine(new Certs());
    certs.addSubcommand("dev", new CertsDev());
    cl.addSubcommand("certs", certs);
    CommandLine config = new CommandLine(new ConfigCommand());
    config.addSubcommand("validate", new ConfigValidate());
    cl.addSubcommand("config", config);
    CommandLine spill = new CommandLine(new Spill());
    spill.addSubcommand("inspect", new SpillInspect());
    cl.addSubcommand("spill", spill);
    cl.addSubcommand("audit", new Audit());
    cl.addSubcommand("version", new VersionCommand());
    cl.addSubcommand("generate-completion", new AutoComplete.GenerateCompletion());
    return cl;
  }

  static String version() {
    String v = Cli.class.getPackage().getImplementationVersion();
    return v == null ? "development build" : v;
  }

  /** {@code --version}: the same line as {@code spillway version}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"spillway " + version()};
    }
  }

  /** A command that only groups subcommands: called alone, it shows its help as a usage error. */
  abstract static class Group implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().usage(spec.commandLine().getErr());
      return USAGE;
    }
  }

  @Command(name = "spillway", mixinStandardHelpOptions = true, versionProvider = Version.class,
      description = "An encrypted spill buffer for OpenTelemetry pipelines (docs/SERVER.md).",
      footer = {"", "Exit codes: 0 ok, 1 failure, 2 usage error. 'spillway COMMAND --help' for each command."})
  static final class Root extends Group {}

  @Command(name = "serve", mixinStandardHelpOptions = true,
      description = {"Run the daemon. Without --config: the quick start (development certificates and local keys",
          "in the state directory, both receivers on loopback with mTLS, the debug exporter)."})
  final class Serve implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "the configuration (docs/CONFIG.md)")
    Path config;

    @Option(names = "--role", paramLabel = "ROLE", defaultValue = "both",
        description = "both, ingest (receivers, writer key only) or drain (export, reader key only); default ${DEFAULT-VALUE}")
    String role;

    @Option(names = "--state-dir", paramLabel = "DIR",
        description = "quick start only: where certificates and keys are generated (default ~/.local/state/spillway)")
    Path stateDir;

    @Option(names = "--grpc-port", paramLabel = "PORT", description = "quick start only: OTLP/gRPC port (default ${DEFAULT-VALUE})",
        defaultValue = "" + QuickStart.GRPC_PORT)
    int grpcPort;

    @Option(names = "--http-port", paramLabel = "PORT", description = "quick start only: OTLP/HTTP port (default ${DEFAULT-VALUE})",
        defaultValue = "" + QuickStart.HTTP_PORT)
    int httpPort;

    @Option(names = "--metrics-port", paramLabel = "PORT", description = "quick start only: metrics port (default ${DEFAULT-VALUE})",
        defaultValue = "" + QuickStart.METRICS_PORT)
    int metricsPort;

    @Option(names = "--insecure-dev", description = "accept TLS-less receivers and exporters on loopback only (development)")
    boolean insecureDev;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, ConfigException {
      Role r;
      try {
        r = Role.fromName(role);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
      ServerConfig cfg;
      Path state = null;
      QuickStart.Ports ports = new QuickStart.Ports(grpcPort, httpPort, metricsPort);
      if (config != null) {
        cfg = new ConfigLoader(System::getenv, insecureDev).load(config);
      } else {
        state = stateDir != null ? stateDir : QuickStart.defaultStateDir();
        String yaml = QuickStart.prepare(state, ports, out);
        cfg = new ConfigLoader(System::getenv, false).parse(yaml, "<built-in quick start configuration>", state);
      }
      CountDownLatch stop = new CountDownLatch(1);
      installSignalHandlers(stop);
      Daemon daemon = Daemon.start(cfg, r, BufferOpener.spillBuffer());
      Thread hook = new Thread(daemon::close, "spillway-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      if (state != null) {
        QuickStart.printEnvironment(state, ports, out);
      }
      try {
        stop.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      daemon.close();
      return OK;
    }
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

  @Command(name = "keys", mixinStandardHelpOptions = true, description = "Local key pairs for the spill (provider: local).")
  static final class Keys extends Group {}

  @Command(name = "init", mixinStandardHelpOptions = true,
      description = "Write writer.json and verifier.json (public), reader.json (private: only drain) and signer.json (private: only ingest).")
  final class KeysInit implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR") Path dir;

    @Option(names = "--passphrase-file", paramLabel = "FILE", description = "encrypt reader.json with this passphrase")
    Path passphraseFile;

    @Override
    public Integer call() throws IOException {
      KeysetProtection protection = passphraseFile == null ? KeysetProtection.none()
          : KeysetPassphrase.fromFile(passphraseFile, w -> err.println("warning: " + w));
      LocalKeys.init(dir, protection);
      out.println("wrote " + dir.resolve(LocalKeys.WRITER_FILE) + " (public: give it to ingest)");
      out.println("wrote " + dir.resolve(LocalKeys.READER_FILE) + " (private"
          + (passphraseFile != null ? ", encrypted with the passphrase" : "") + ": give it only to drain)");
      out.println("wrote " + dir.resolve(LocalKeys.SIGNER_FILE) + " (private: give it only to ingest, beside writer.json)");
      out.println("wrote " + dir.resolve(LocalKeys.VERIFIER_FILE) + " (public: give it to drain, beside reader.json)");
      return OK;
    }
  }

  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = "New primary key pair; reader.json keeps the old private keys.")
  final class KeysRotate implements Callable<Integer> {
    @Option(names = "--dir", required = true, paramLabel = "DIR") Path dir;

    @Option(names = "--passphrase-file", paramLabel = "FILE", description = "the passphrase reader.json is encrypted with")
    Path passphraseFile;

    @Override
    public Integer call() throws IOException {
      KeysetProtection protection = passphraseFile != null
          ? KeysetPassphrase.fromFile(passphraseFile, w -> err.println("warning: " + w))
          : KeysetPassphrase.forReader(dir.resolve(LocalKeys.READER_FILE), Optional.empty(), System::getenv,
              w -> err.println("warning: " + w));
      LocalKeys.rotate(dir, protection);
      out.println("rotated: new primary key in " + dir.resolve(LocalKeys.WRITER_FILE) + " (public: give it to ingest)");
      out.println("rotated: every private key kept in " + dir.resolve(LocalKeys.READER_FILE) + " (private"
          + (passphraseFile != null ? ", encrypted with the passphrase" : "") + ": give it only to drain)");
      out.println("rotated: new signing key in " + dir.resolve(LocalKeys.SIGNER_FILE)
          + " (private: give it only to ingest, beside writer.json)");
      out.println("rotated: every public signing key kept in " + dir.resolve(LocalKeys.VERIFIER_FILE)
          + " (public: give it to drain, beside reader.json)");
      return OK;
    }
  }

  @Command(name = "certs", mixinStandardHelpOptions = true, description = "Development certificates.")
  static final class Certs extends Group {}

  @Command(name = "dev", mixinStandardHelpOptions = true,
      description = "Development CA, server and client certificates (PKCS#8 keys); server.crt is for localhost, 127.0.0.1 and ::1.")
  final class CertsDev implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR") Path dir;

    @Option(names = "--days", defaultValue = "365", paramLabel = "N", description = "validity (default ${DEFAULT-VALUE})")
    int days;

    @Override
    public Integer call() throws IOException {
      DevCertificates.write(dir, Duration.ofDays(days));
      out.println("wrote ca.crt, ca.key, server.crt, server.key, client.crt, client.key to " + dir
          + " (development only; server.crt is for localhost, 127.0.0.1 and ::1)");
      return OK;
    }
  }

  @Command(name = "config", mixinStandardHelpOptions = true, description = "Configuration files.")
  static final class ConfigCommand extends Group {}

  @Command(name = "validate", mixinStandardHelpOptions = true,
      description = "Check a configuration without starting anything; reports every error with file:line:column and key.")
  final class ConfigValidate implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE") Path config;

    @Option(names = "--insecure-dev", description = "as serve --insecure-dev") boolean insecureDev;

    @Override
    public Integer call() throws ConfigException {
      ServerConfig c = new ConfigLoader(System::getenv, insecureDev).load(config);
      for (String w : c.warnings()) {
        out.println("warning: " + w);
      }
      out.println(c.source() + ": valid");
      return OK;
    }
  }

  @Command(name = "spill", mixinStandardHelpOptions = true, description = "The spill directory.")
  static final class Spill extends Group {}

  @Command(name = "inspect", mixinStandardHelpOptions = true,
      description = "Segments, records and their state; with --reader-key, authenticate every record.")
  final class SpillInspect implements Callable<Integer> {
    @Option(names = "--dir", required = true, paramLabel = "DIR") Path dir;
    @Option(names = "--reader-key", paramLabel = "FILE") Path readerKey;
    @Option(names = "--passphrase-file", paramLabel = "FILE") Path passphraseFile;
    @Option(names = "--queue", paramLabel = "NAME", defaultValue = SpillBufferBuilder.DEFAULT_QUEUE_NAME,
        description = "default ${DEFAULT-VALUE}")
    String queue;
    @Option(names = "--deployment-id", paramLabel = "NAME", defaultValue = "",
        description = "buffer.spill.deployment_id of the daemon that wrote the spill (default: unnamed)")
    String deployment;

    @Override
    public Integer call() throws IOException {
      return new SpillInspectCommand(out, err, System::getenv).run(dir, Optional.ofNullable(readerKey),
          Optional.ofNullable(passphraseFile), deployment.isEmpty() ? dev.spillway.core.keys.DeploymentId.UNNAMED
              : dev.spillway.core.keys.DeploymentId.of(deployment), queue);
    }
  }

  /** Listed in help; {@link #run} hands {@code audit} to its own parser before picocli sees it. */
  @Command(name = "audit", description = {"The reference article's verification checklist over configs, env files and",
      "policies (docs/AUDIT.md); 'spillway audit --help' lists its flags (--config, --pair, --writer-role,",
      "--reader-role, --baseline, --probe, --format ...)."})
  static final class Audit implements Callable<Integer> {
    @Parameters(arity = "0..*") List<String> args;

    @Override
    public Integer call() {
      return USAGE; // not reached: run() dispatches audit first
    }
  }

  @Command(name = "version", mixinStandardHelpOptions = true, description = "Print the version.")
  final class VersionCommand implements Callable<Integer> {
    @Override
    public Integer call() {
      out.println("spillway " + version());
      return OK;
    }
  }
}
