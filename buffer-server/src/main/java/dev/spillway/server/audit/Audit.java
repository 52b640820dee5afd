package dev.spillway.server.audit;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One audit run: reads the inputs, runs every check that applies to each configuration's kind,
 * pairs SDK environments with receiving configs where they belong together (same deployment
 * folder, or {@code --pair}), probes live endpoints, then applies the baseline and suppressions.
 * Input problems are collected, never thrown, so one bad file does not hide the others' findings.
 */
final class Audit {

  /**
   * What the audit reads from the machine it runs on; tests inject fixtures and a clock.
   *
   * @param pathExists whether a directory named in a configuration exists here: a host-dependent
   *     check judges only paths of this machine
   * @param hostName the machine judged, named in host-dependent findings
   */
  record Environment(SpillMount mounts, Clock clock, Duration connectTimeout, Duration readTimeout,
      Predicate<String> pathExists, String hostName) {

    Environment(SpillMount mounts, Clock clock, Duration connectTimeout, Duration readTimeout) {
      this(mounts, clock, connectTimeout, readTimeout, p -> true, "the audit host");
    }

    static Environment system() {
      return new Environment(SpillMount.system(), Clock.systemUTC(), Duration.ofSeconds(5), Duration.ofSeconds(2),
          p -> Files.exists(Paths.get(p)), localHostName());
    }

    private static String localHostName() {
      try {
        return Files.readString(Paths.get("/proc/sys/kernel/hostname")).trim();
      } catch (IOException | RuntimeException e) {
        try {
          return InetAddress.getLocalHost().getHostName();
        } catch (IOException e2) {
          return "the audit host";
        }
      }
    }
  }

  /** What to audit and how; {@link AuditCommand} builds it from the command line. */
  record Request(List<Path> files, List<List<Path>> configLayers, List<List<Path>> pairs, List<String> probes,
      Set<Rule> skip, Roles roles, Suppressions suppressions) {

    static Request of(List<Path> files, List<String> probes, Set<Rule> skip) {
      return new Request(files, List.of(), List.of(), probes, skip, Roles.none(), Suppressions.none());
    }
  }

  /** An input that could not be read, parsed, recognised or reached. */
  record InputError(String input, String reason) {}

  /** A finding left out of the verdict, with the reason the baseline or suppression gives. */
  record Suppressed(Finding finding, String reason) {}

  /** Everything a report needs. */
  record Result(List<AuditInputSummary> inputs, List<Finding> findings, List<InputError> errors,
      List<Suppressed> suppressed) {

    Result(List<AuditInputSummary> inputs, List<Finding> findings, List<InputError> errors) {
      this(inputs, findings, errors, List.of());
    }

    boolean anyFail() {
      return findings.stream().anyMatch(f -> f.severity() == Severity.FAIL);
    }

    /** 0 clean, 1 a finding fails, 2 an input was unusable, 3 both: a CI can tell them apart. */
    int exitCode() {
      boolean inputErrors = !errors.isEmpty();
      return anyFail() ? (inputErrors ? 3 : 1) : (inputErrors ? 2 : 0);
    }

    long count(Severity s) {
      return findings.stream().filter(f -> f.severity() == s).count();
    }
  }

  /** A file or probe target and what it was recognised as. */
  record AuditInputSummary(String name, String kind) {}

  private static final int MAX_FOLDER_DEPTH = 4;
  private static final int MAX_FOLDER_FILES = 500;

  private final Environment env;

  Audit(Environment env) {
    this.env = env;
  }

  Result run(List<Path> files, List<String> probes, Set<Rule> skip) {
    return run(Request.of(files, probes, skip));
  }

  Result run(Request request) {
    Findings findings = new Findings();
    List<InputError> errors = new ArrayList<>();
    List<AuditInput> inputs = new ArrayList<>();
    List<AuditInputSummary> summaries = new ArrayList<>();
    if (!request.configLayers().isEmpty()) {
      for (List<Path> layers : request.configLayers()) {
        try {
          AuditInput in = InputReader.layered(layers);
          inputs.add(in);
          summaries.add(new AuditInputSummary(in.name(), in.description()));
        } catch (AuditInput.InputException e) {
          errors.add(new InputError(layers.stream().map(Path::toString).collect(Collectors.joining(" + ")),
              e.getMessage()));
        }
      }
    }
    // a file named both on its own and in --pair is read once
    java.util.Set<Path> explicit = new java.util.LinkedHashSet<>(request.files());
    request.pairs().forEach(explicit::addAll);
    for (Path p : explicit) {
      if (Files.isDirectory(p)) {
        readFolder(p, inputs, summaries, errors);
      } else {
        readFile(p, inputs, summaries, errors);
      }
    }
    markLegacyCollectors(inputs);
    for (AuditInput in : inputs) {
      check(in, findings, request.roles());
    }
    pair(inputs, request.pairs(), findings, env.clock());
    probe(request.probes(), findings, summaries, errors);
    return verdict(summaries, findings, errors, request);
  }

  private void check(AuditInput in, Findings findings, Roles roles) {
    switch (in.kind()) {
      case SDK_ENV:
        SdkEnvChecks.check(in, findings);
        break;
      case COLLECTOR_CONFIG:
        OtlpConfigChecks.checkReceivers(in, findings);
        OtlpConfigChecks.checkExporters(in, findings);
        OtlpConfigChecks.checkBackends(in, findings);
        OtlpConfigChecks.checkPipelines(in, findings);
        OtlpConfigChecks.checkSendingQueues(in, findings, env);
        break;
      case SPILLWAY_CONFIG:
        OtlpConfigChecks.checkReceivers(in, findings);
        OtlpConfigChecks.checkExporters(in, findings);
        OtlpConfigChecks.checkSpillDirectory(in, findings, env);
        break;
      case TEMPO_CONFIG:
        TempoChecks.check(in, findings, env);
        break;
      case IAM_POLICY:
        IamPolicyChecks.check(in, findings, roles);
        break;
      default:
        throw new AssertionError(in.kind());
    }
  }

  /**
   * A deployment folder whose environment files pin a collector image older than v0.104 runs
   * receivers that default to 0.0.0.0, not localhost: its collector configs are judged so.
   */
  private static void markLegacyCollectors(List<AuditInput> inputs) {
    for (int i = 0; i < inputs.size(); i++) {
      AuditInput in = inputs.get(i);
      if (in.kind() != InputKind.COLLECTOR_CONFIG) {
        continue;
      }
      for (AuditInput other : inputs) {
        if (other.kind() == InputKind.SDK_ENV && other.folder().equals(in.folder())) {
          String image = Endpoints.legacyCollectorImage(String.join(" ",
              other.env().all().values().stream().map(EnvFile.Entry::value).collect(Collectors.toList())));
          if (image != null) {
            inputs.set(i, in.runningLegacyCollector(image));
            break;
          }
        }
      }
    }
  }

  /** SDK with receiver: within one deployment folder, or as the user paired them. */
  private static void pair(List<AuditInput> inputs, List<List<Path>> pairs, Findings findings, Clock clock) {
    for (AuditInput sdk : inputs) {
      if (sdk.kind() != InputKind.SDK_ENV || !sdk.env().configuresOtlpExporter()) {
        continue;
      }
      for (AuditInput rx : inputs) {
        boolean receiving = rx.kind() == InputKind.COLLECTOR_CONFIG || rx.kind() == InputKind.SPILLWAY_CONFIG;
        if (receiving && (sdk.folder().equals(rx.folder()) || paired(pairs, sdk, rx))) {
          PairingChecks.check(sdk, rx, findings, clock);
        }
      }
    }
  }

  private static boolean paired(List<List<Path>> pairs, AuditInput a, AuditInput b) {
    Path pa = a.path().toAbsolutePath().normalize();
    Path pb = b.path().toAbsolutePath().normalize();
    for (List<Path> pair : pairs) {
      Set<Path> both = pair.stream().map(p -> p.toAbsolutePath().normalize()).collect(Collectors.toSet());
      if (both.contains(pa) && both.contains(pb)) {
        return true;
      }
    }
    return false;
  }

  private void probe(List<String> probes, Findings findings, List<AuditInputSummary> summaries,
      List<InputError> errors) {
    TlsProbe probe = new TlsProbe(env.clock(), env.connectTimeout(), env.readTimeout());
    for (String spec : probes) {
      try {
        TlsProbe.Target t = TlsProbe.Target.parse(spec);
        probe.probe(t, findings);
        summaries.add(new AuditInputSummary(t.display(), "live endpoint"));
      } catch (IllegalArgumentException e) {
        errors.add(new InputError(spec, e.getMessage()));
      } catch (TlsProbe.UnreachableException e) {
        errors.add(new InputError(spec, e.getMessage()));
      }
    }
  }

  private static Result verdict(List<AuditInputSummary> summaries, Findings findings, List<InputError> errors,
      Request request) {
    List<Finding> kept = new ArrayList<>();
    List<Suppressed> suppressed = new ArrayList<>();
    for (Finding f : findings.list()) {
      if (request.skip().contains(f.rule())) {
        continue;
      }
      String reason = request.suppressions().reasonFor(f);
      if (reason != null && f.severity() != Severity.PASS) {
        suppressed.add(new Suppressed(f, reason));
      } else {
        kept.add(f);
      }
    }
    return new Result(Collections.unmodifiableList(summaries), Collections.unmodifiableList(kept),
        Collections.unmodifiableList(errors), Collections.unmodifiableList(suppressed));
  }

  private static void readFile(Path p, List<AuditInput> inputs, List<AuditInputSummary> summaries,
      List<InputError> errors) {
    try {
      List<AuditInput> found = InputReader.read(p);
      if (found.isEmpty()) {
        summaries.add(new AuditInputSummary(p.toString(), "nothing to check (no OTLP exporter settings or configuration)"));
      }
      for (AuditInput in : found) {
        inputs.add(in);
        summaries.add(new AuditInputSummary(in.name(), in.description()));
      }
    } catch (AuditInput.InputException e) {
      errors.add(new InputError(p.toString(), e.getMessage()));
    }
  }

  /**
   * Every configuration-looking file below a folder (YAML, JSON, environment files, templates), in
   * name order; files that are recognised as none of ours are listed and skipped, not errors: a
   * deployment folder also holds dashboards and scripts.
   */
  private static void readFolder(Path dir, List<AuditInput> inputs, List<AuditInputSummary> summaries,
      List<InputError> errors) {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir, MAX_FOLDER_DEPTH)) {
      files = walk.filter(Files::isRegularFile).filter(Audit::looksLikeConfiguration).sorted()
          .limit(MAX_FOLDER_FILES).collect(Collectors.toList());
    } catch (IOException | RuntimeException e) {
      errors.add(new InputError(dir.toString(), "cannot list the folder: " + e.getMessage()));
      return;
    }
    for (Path p : files) {
      try {
        List<AuditInput> found = InputReader.read(p);
        for (AuditInput in : found) {
          inputs.add(in);
          summaries.add(new AuditInputSummary(in.name(), in.description()));
        }
      } catch (AuditInput.InputException e) {
        if (e.getMessage().startsWith("cannot tell what kind")) {
          summaries.add(new AuditInputSummary(p.toString(), "skipped: not a configuration this audit knows"));
        } else {
          errors.add(new InputError(p.toString(), e.getMessage()));
        }
      }
    }
  }

  private static boolean looksLikeConfiguration(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json") || n.endsWith(".env")
        || n.startsWith(".env") || n.endsWith(".tpl");
  }

  /** Which principals and policy files are writers and readers, as the user declared them. */
  record Roles(Set<String> writers, Set<String> readers) {
    static Roles none() {
      return new Roles(Set.of(), Set.of());
    }

    /** WRITER, READER or null for a principal ARN or a policy file the user named. */
    IamPolicyChecks.Role of(String principalOrFile) {
      if (matches(writers, principalOrFile)) {
        return IamPolicyChecks.Role.WRITER;
      }
      return matches(readers, principalOrFile) ? IamPolicyChecks.Role.READER : null;
    }

    private static boolean matches(Set<String> declared, String candidate) {
      for (String d : declared) {
        if (d.equals(candidate) || (looksLikePath(d) && samePath(d, candidate))) {
          return true;
        }
      }
      return false;
    }

    private static boolean looksLikePath(String s) {
      return !s.startsWith("arn:");
    }

    private static boolean samePath(String a, String b) {
      try {
        return Paths.get(a).toAbsolutePath().normalize().equals(Paths.get(b).toAbsolutePath().normalize());
      } catch (RuntimeException e) {
        return false;
      }
    }
  }

  /**
   * Findings accepted with a reason: the baseline file's entries (by rule, file and key), and
   * inline comments in the audited file itself, on the finding's line or the line above:
   * {@code # spillway-audit: allow RX-NO-TLS -- loopback-only sidecar}. An inline comment without a
   * reason suppresses nothing.
   */
  record Suppressions(Map<String, String> reasonsByFingerprint) {
    private static final java.util.regex.Pattern INLINE = java.util.regex.Pattern.compile(
        "spillway-audit:\\s*allow\\s+([A-Z0-9-]+)\\s*(?:--|:)\\s*(\\S.*?)\\s*$");

    static Suppressions none() {
      return new Suppressions(Map.of());
    }

    String reasonFor(Finding f) {
      String baseline = reasonsByFingerprint.get(f.fingerprint());
      return baseline != null ? baseline : inlineReason(f);
    }

    private static String inlineReason(Finding f) {
      if (f.line() <= 0 || f.rule().id().startsWith("PROBE-")) {
        return null;
      }
      List<String> lines;
      try {
        lines = Files.readAllLines(Paths.get(f.file()));
      } catch (IOException | RuntimeException e) {
        return null;
      }
      for (int i = f.line() - 1; i >= Math.max(0, f.line() - 2); i--) {
        if (i >= lines.size()) {
          continue;
        }
        java.util.regex.Matcher m = INLINE.matcher(lines.get(i));
        if (m.find() && m.group(1).equalsIgnoreCase(f.rule().id())) {
          return "inline at line " + (i + 1) + ": " + m.group(2);
        }
      }
      return null;
    }
  }
}
