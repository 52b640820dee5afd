package dev.spillway.server.audit;

import java.nio.file.Path;

/**
 * One configuration to check, as found in a file: a whole file, one document of a multi-document
 * manifest, a ConfigMap's {@code data} entry, a Helm values {@code config:}, an
 * {@code OpenTelemetryCollector}'s {@code spec.config}, one compose service's {@code environment:},
 * or several collector files merged by {@code --config}. Exactly one of {@link #tree()} and
 * {@link #env()} is non-null. {@link InputReader} makes them.
 */
final class AuditInput {

  /** Thrown when a file cannot be read, parsed or recognised; the message names the reason. */
  static final class InputException extends Exception {
    private static final long serialVersionUID = 1L;

    InputException(String message) {
      super(message);
    }
  }

  private final Path path;
  private final String name;
  private final InputKind kind;
  private final String description;
  private final ConfigNode tree;
  private final EnvFile env;
  private final boolean operatorManaged;
  private final String legacyCollector;

  AuditInput(Path path, String name, InputKind kind, String description, ConfigNode tree, EnvFile env,
      boolean operatorManaged) {
    this(path, name, kind, description, tree, env, operatorManaged, null);
  }

  private AuditInput(Path path, String name, InputKind kind, String description, ConfigNode tree, EnvFile env,
      boolean operatorManaged, String legacyCollector) {
    this.path = path;
    this.name = name;
    this.kind = kind;
    this.description = description;
    this.tree = tree;
    this.env = env;
    this.operatorManaged = operatorManaged;
    this.legacyCollector = legacyCollector;
  }

  /** The same configuration, known to run on a collector older than v0.104 (named by {@code image}). */
  AuditInput runningLegacyCollector(String image) {
    return new AuditInput(path, name, kind, description + ", run by " + image, tree, env, operatorManaged, image);
  }

  /**
   * The collector image older than v0.104 that the deployment folder names (its receivers then
   * default to 0.0.0.0), or null.
   */
  String legacyCollector() {
    return legacyCollector;
  }

  /** The file (the first one, for a layered configuration); relative certificate paths resolve against it. */
  Path path() {
    return path;
  }

  /** The file as the user named it, used in findings that have no node of their own. */
  String name() {
    return name;
  }

  InputKind kind() {
    return kind;
  }

  /** What it was recognised as, for the report: "collector config in ConfigMap data.relay". */
  String description() {
    return description;
  }

  ConfigNode tree() {
    return tree;
  }

  EnvFile env() {
    return env;
  }

  /**
   * True for an {@code OpenTelemetryCollector} resource: the operator gives receivers without an
   * endpoint the address {@code 0.0.0.0} (operator #3126), not the collector's localhost default.
   */
  boolean operatorManaged() {
    return operatorManaged;
  }

  /** The deployment folder: SDK and receiver configurations in one folder are paired. */
  Path folder() {
    Path parent = path.toAbsolutePath().normalize().getParent();
    return parent == null ? path.toAbsolutePath() : parent;
  }
}
