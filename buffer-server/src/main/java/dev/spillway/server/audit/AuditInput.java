package dev.spillway.server.audit;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * One file given to the audit, read, parsed and classified. Exactly one of {@link #tree()} and
 * {@link #env()} is non-null.
 */
final class AuditInput {

  /** Thrown when a file cannot be read, parsed or recognised; the message names the reason. */
  static final class InputException extends Exception {
    private static final long serialVersionUID = 1L;

    InputException(String message) {
      super(message);
    }
  }

  private static final long MAX_BYTES = 8L * 1024 * 1024;

  private final Path path;
  private final String name;
  private final InputKind kind;
  private final ConfigNode tree;
  private final EnvFile env;

  private AuditInput(Path path, InputKind kind, ConfigNode tree, EnvFile env) {
    this.path = path;
    this.name = path.toString();
    this.kind = kind;
    this.tree = tree;
    this.env = env;
  }

  Path path() {
    return path;
  }

  /** The file as the user named it, used in every finding. */
  String name() {
    return name;
  }

  InputKind kind() {
    return kind;
  }

  ConfigNode tree() {
    return tree;
  }

  EnvFile env() {
    return env;
  }

  /**
   * Reads and classifies a file: an environment file by its lines, JSON with {@code Statement}
   * as an IAM policy, and YAML by its top-level keys. The file name only breaks ties.
   */
  static AuditInput read(Path path) throws InputException {
    String text = readText(path);
    String base = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean envName = base.endsWith(".env") || base.startsWith(".env") || base.equals("environment");
    if (EnvFile.looksLike(text) || (envName && !text.stripLeading().startsWith("{"))) {
      try {
        return new AuditInput(path, InputKind.SDK_ENV, null, EnvFile.parse(text));
      } catch (IllegalArgumentException e) {
        throw new InputException("not a valid environment file: " + e.getMessage());
      }
    }
    ConfigNode root;
    try {
      root = ConfigNode.parse(text);
    } catch (MarkedYAMLException e) {
      String where = e.getProblemMark() == null ? "" : " at line " + (e.getProblemMark().getLine() + 1);
      throw new InputException("cannot parse as YAML/JSON" + where + ": " + e.getProblem());
    } catch (YAMLException e) {
      throw new InputException("cannot parse as YAML/JSON: " + e.getMessage());
    }
    if (!root.isMapping()) {
      throw new InputException("not a configuration file this audit knows (the top level is not a mapping)");
    }
    InputKind kind = classify(root, base);
    if (kind == null) {
      throw new InputException(
          "cannot tell what kind of file this is: expected a collector config (receivers/exporters/service),"
              + " a Spillway config (receivers + buffer.spill), a Tempo config (storage.trace),"
              + " an IAM policy (Statement) or an SDK environment file (KEY=VALUE lines)");
    }
    return new AuditInput(path, kind, root, null);
  }

  private static InputKind classify(ConfigNode root, String base) {
    if (root.get("Statement").isPresent()) {
      return InputKind.IAM_POLICY;
    }
    if (root.at("storage.trace").isPresent()) {
      return InputKind.TEMPO_CONFIG;
    }
    boolean receivers = root.get("receivers").isPresent();
    boolean buffer = root.get("buffer").isPresent();
    boolean collectorish = root.get("service").isPresent() || root.get("processors").isPresent()
        || root.get("extensions").isPresent();
    if (buffer && !collectorish) {
      return InputKind.SPILLWAY_CONFIG;
    }
    if (receivers || root.get("exporters").isPresent() || collectorish) {
      if (!collectorish && base.contains("spillway")) {
        return InputKind.SPILLWAY_CONFIG;
      }
      return InputKind.COLLECTOR_CONFIG;
    }
    return null;
  }

  private static String readText(Path path) throws InputException {
    try {
      if (!Files.exists(path)) {
        throw new InputException("no such file");
      }
      if (Files.isDirectory(path)) {
        throw new InputException("is a directory");
      }
      if (Files.size(path) > MAX_BYTES) {
        throw new InputException("larger than " + (MAX_BYTES >> 20) + " MiB; not a configuration file");
      }
      byte[] bytes = Files.readAllBytes(path);
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new InputException("not UTF-8 text");
    } catch (java.nio.file.AccessDeniedException e) {
      throw new InputException("permission denied");
    } catch (java.io.IOException e) {
      throw new InputException("cannot read: " + e);
    }
  }
}
