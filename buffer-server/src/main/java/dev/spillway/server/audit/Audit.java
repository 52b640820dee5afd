package dev.spillway.server.audit;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * One audit run: reads the files, runs every check that applies to each file's kind, pairs SDK
 * environment files with receiving configs for the pitfall checks, and probes live endpoints.
 * Input problems are collected, never thrown, so one bad file does not hide the others' findings.
 */
final class Audit {

  /** What the audit reads from the machine it runs on; tests inject fixtures and a clock. */
  record Environment(SpillMount mounts, Clock clock, Duration connectTimeout, Duration readTimeout) {
    static Environment system() {
      return new Environment(SpillMount.system(), Clock.systemUTC(), Duration.ofSeconds(5), Duration.ofSeconds(2));
    }
  }

  /** An input that could not be read, parsed, recognised or reached. */
  record InputError(String input, String reason) {}

  /** Everything a report needs. */
  record Result(List<AuditInputSummary> inputs, List<Finding> findings, List<InputError> errors) {
    boolean anyFail() {
      return findings.stream().anyMatch(f -> f.severity() == Severity.FAIL);
    }

    /** 2 when an input was unusable, else 1 when any finding fails, else 0. */
    int exitCode() {
      return !errors.isEmpty() ? 2 : anyFail() ? 1 : 0;
    }

    long count(Severity s) {
      return findings.stream().filter(f -> f.severity() == s).count();
    }
  }

  /** A file or probe target and what it was recognised as. */
  record AuditInputSummary(String name, String kind) {}

  private final Environment env;

  Audit(Environment env) {
    this.env = env;
  }

  Result run(List<Path> files, List<String> probes, Set<Rule> skip) {
    Findings findings = new Findings();
    List<InputError> errors = new ArrayList<>();
    List<AuditInput> inputs = new ArrayList<>();
    List<AuditInputSummary> summaries = new ArrayList<>();
    for (Path p : files) {
      try {
        AuditInput in = AuditInput.read(p);
        inputs.add(in);
        summaries.add(new AuditInputSummary(in.name(), in.kind().label()));
      } catch (AuditInput.InputException e) {
        errors.add(new InputError(p.toString(), e.getMessage()));
      }
    }
    for (AuditInput in : inputs) {
      switch (in.kind()) {
        case SDK_ENV:
          SdkEnvChecks.check(in, findings);
          break;
        case COLLECTOR_CONFIG:
          OtlpConfigChecks.checkReceivers(in, findings);
          OtlpConfigChecks.checkExporters(in, findings);
          OtlpConfigChecks.checkPipelines(in, findings);
          OtlpConfigChecks.checkSendingQueues(in, findings, env.mounts());
          break;
        case SPILLWAY_CONFIG:
          OtlpConfigChecks.checkReceivers(in, findings);
          OtlpConfigChecks.checkExporters(in, findings);
          OtlpConfigChecks.checkSpillDirectory(in, findings, env.mounts());
          break;
        case TEMPO_CONFIG:
          TempoChecks.check(in, findings, env.mounts());
          break;
        case IAM_POLICY:
          IamPolicyChecks.check(in, findings);
          break;
        default:
          throw new AssertionError(in.kind());
      }
    }
    for (AuditInput sdk : inputs) {
      if (sdk.kind() != InputKind.SDK_ENV) {
        continue;
      }
      for (AuditInput rx : inputs) {
        if (rx.kind() == InputKind.COLLECTOR_CONFIG || rx.kind() == InputKind.SPILLWAY_CONFIG) {
          PairingChecks.check(sdk, rx, findings);
        }
      }
    }
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
    List<Finding> kept = new ArrayList<>();
    for (Finding f : findings.list()) {
      if (!skip.contains(f.rule())) {
        kept.add(f);
      }
    }
    return new Result(Collections.unmodifiableList(summaries), Collections.unmodifiableList(kept),
        Collections.unmodifiableList(errors));
  }
}
