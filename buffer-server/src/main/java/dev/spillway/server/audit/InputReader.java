package dev.spillway.server.audit;

import dev.spillway.server.audit.AuditInput.InputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads files as operators have them and finds the configurations inside: SDK environment files,
 * collector, Tempo, Spillway and IAM documents on their own, and the same embedded in Kubernetes
 * ConfigMaps ({@code data.*}), the operator's {@code OpenTelemetryCollector} ({@code spec.config}),
 * Helm values ({@code config:}, also under a subchart key), multi-document manifests and
 * docker-compose services ({@code environment:} as a list or a map). Templates (Helm/Go
 * {@code {{ }}}, Terraform {@code ${}}, HCL) are named as such. The file name only breaks ties.
 */
final class InputReader {

  private static final long MAX_BYTES = 8L * 1024 * 1024;
  private static final Set<String> COLLECTOR_KEYS =
      Set.of("receivers", "exporters", "processors", "extensions", "connectors", "service");
  private static final Pattern GO_TEMPLATE = Pattern.compile("\\{\\{.*?}}");
  private static final Pattern TERRAFORM_TEMPLATE = Pattern.compile("\\$\\{[A-Za-z_][A-Za-z0-9_.]*}");
  private static final Pattern COMPOSE_ENV_ITEM = Pattern.compile("^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$", Pattern.DOTALL);

  private InputReader() {}

  /**
   * Every configuration in the file, in file order; empty for a file that is recognised but holds
   * nothing to check (a compose file whose services set no OTEL_EXPORTER_OTLP_* variable, a
   * Deployment manifest).
   */
  static List<AuditInput> read(Path path) throws InputException {
    String text = readText(path);
    String name = path.toString();
    String base = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
    if (base.endsWith(".nomad") || base.endsWith(".hcl") || base.endsWith(".tf")) {
      throw new InputException("an HCL file (Nomad/Terraform), not YAML or JSON: a template of a configuration;"
          + " render it and audit the result");
    }
    boolean envName = base.endsWith(".env") || base.startsWith(".env") || base.equals("environment");
    if (EnvFile.looksLike(text) || (envName && !text.stripLeading().startsWith("{"))) {
      try {
        EnvFile env = EnvFile.parse(text);
        return List.of(new AuditInput(path, name, InputKind.SDK_ENV, InputKind.SDK_ENV.label(), null, env, false));
      } catch (IllegalArgumentException e) {
        throw new InputException("not a valid environment file: " + e.getMessage());
      }
    }
    String template = templateKind(text, base);
    List<ConfigNode> documents;
    try {
      documents = ConfigNode.parseAll(text, name);
    } catch (MarkedYAMLException e) {
      String where = e.getProblemMark() == null ? "" : " at line " + (e.getProblemMark().getLine() + 1);
      throw new InputException((template == null ? "" : template + ", not plain YAML/JSON: ")
          + "cannot parse as YAML/JSON" + where + ": " + e.getProblem()
          + (template == null ? "" : "; render it (helm template, terraform console) and audit the output"));
    } catch (YAMLException e) {
      throw new InputException("cannot parse as YAML/JSON: " + e.getMessage());
    }
    if (documents.isEmpty()) {
      throw new InputException("empty: the file has only comments or blank lines");
    }
    List<AuditInput> out = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    boolean recognised = false;
    for (int i = 0; i < documents.size(); i++) {
      ConfigNode doc = documents.get(i);
      List<AuditInput> found = recognise(path, doc, base, template);
      if (found == null) {
        unknown.add(documents.size() == 1 ? describe(doc) : "document " + (i + 1) + " (" + describe(doc) + ")");
      } else {
        recognised = true;
        out.addAll(found);
      }
    }
    if (!recognised) {
      throw new InputException("cannot tell what kind of file this is: " + String.join("; ", unknown)
          + ". Expected a collector config (receivers/exporters/service), a ConfigMap, OpenTelemetryCollector"
          + " or Helm values holding one, a Tempo config (storage.trace, distributor.receivers), a Spillway config"
          + " (receivers + buffer), an IAM policy (Statement), a docker-compose file with OTEL_EXPORTER_OTLP_*"
          + " environment, or an SDK environment file (KEY=VALUE lines)"
          + (template == null ? "" : "; note: this is " + template));
    }
    return out;
  }

  /**
   * The collector configuration of {@code --config} files merged in order, as the collector merges
   * them (maps recursively, lists replaced); Helm values files merge their {@code config:} the way
   * Helm does (a null value removes the key). Empty files (an overlay stub) add nothing.
   */
  static AuditInput layered(List<Path> files) throws InputException {
    ConfigNode merged = null;
    boolean operator = false;
    List<String> names = new ArrayList<>();
    List<String> kinds = new ArrayList<>();
    for (Path p : files) {
      names.add(p.toString());
      ConfigNode layer;
      boolean helm;
      String text = readText(p);
      List<ConfigNode> docs;
      try {
        docs = ConfigNode.parseAll(text, p.toString());
      } catch (YAMLException e) {
        throw new InputException("--config " + p + ": cannot parse as YAML: " + e.getMessage());
      }
      if (docs.isEmpty()) {
        kinds.add("empty");
        continue;
      }
      if (docs.size() > 1) {
        throw new InputException("--config " + p + ": " + docs.size() + " documents; --config takes one collector"
            + " configuration per file");
      }
      ConfigNode root = docs.get(0);
      if (!root.isMapping()) {
        throw new InputException("--config " + p + ": the top level is not a mapping");
      }
      ConfigNode helmConfig = helmCollectorConfig(root);
      if (helmConfig != null && helmConfig.path().equals("alternateConfig")) {
        merged = helmConfig; // the chart uses it instead of config: nothing before it applies
        kinds.add("Helm values alternateConfig (replaces config)");
        continue;
      }
      if (helmConfig != null) {
        layer = helmConfig;
        helm = true;
        kinds.add("Helm values");
      } else if (isHelmValues(root)) {
        kinds.add("Helm values without config:");
        continue; // only the chart's defaults apply
      } else if (isCollector(root)) {
        layer = root;
        helm = false;
        kinds.add("collector config");
      } else {
        List<AuditInput> found = read(p);
        AuditInput first = found.get(0);
        if (found.size() != 1 || first.kind() != InputKind.COLLECTOR_CONFIG) {
          throw new InputException("--config " + p + ": not a collector configuration (" + first.description() + ")");
        }
        layer = first.tree();
        helm = false;
        operator |= first.operatorManaged();
        kinds.add(first.description());
      }
      merged = merged == null ? layer : ConfigNode.merge(merged, layer, helm);
    }
    if (merged == null) {
      throw new InputException("--config " + String.join(" ", names) + ": no collector configuration in any file");
    }
    return new AuditInput(files.get(0), String.join(" + ", names), InputKind.COLLECTOR_CONFIG,
        "collector config merged from " + files.size() + " files: " + String.join(", ", kinds), merged, null,
        operator);
  }

  /** The configurations in one document; null when it is nothing this audit knows. */
  private static List<AuditInput> recognise(Path path, ConfigNode doc, String base, String template)
      throws InputException {
    String name = path.toString();
    String note = template == null ? "" : " (" + template + ")";
    if (!doc.isMapping()) {
      return null;
    }
    if (doc.get("Statement").isPresent()) {
      return List.of(unit(path, InputKind.IAM_POLICY, InputKind.IAM_POLICY.label() + note, doc, false));
    }
    String kind = doc.get("kind").textOrEmpty();
    if (!kind.isEmpty() && doc.get("apiVersion").isPresent()) {
      return kubernetes(path, doc, kind, note);
    }
    List<AuditInput> compose = compose(path, doc);
    if (compose != null) {
      return compose;
    }
    ConfigNode helm = helmCollectorConfig(doc);
    if (helm != null) {
      return List.of(unit(path, InputKind.COLLECTOR_CONFIG, "collector config in Helm values " + helm.path() + note,
          helm, false));
    }
    if (doc.at("storage.trace").isPresent() || doc.at("distributor.receivers").isPresent()) {
      String tempoNote = doc.get("config").text() != null && GO_TEMPLATE.matcher(doc.get("config").text()).find()
          ? " (Tempo Helm values; config: is a Helm template, render it to audit the receivers it enables)" : note;
      return List.of(unit(path, InputKind.TEMPO_CONFIG, InputKind.TEMPO_CONFIG.label() + tempoNote, doc, false));
    }
    if (isHelmValues(doc)) {
      throw new InputException("Helm values without a collector config: key: only the chart's defaults apply;"
          + " audit them layered on the chart's values: --config chart/values.yaml --config " + name);
    }
    InputKind k = classifyOtlpShaped(doc, base);
    if (k != null) {
      return List.of(unit(path, k, k.label() + note, doc, false));
    }
    return null;
  }

  private static AuditInput unit(Path path, InputKind kind, String description, ConfigNode tree, boolean operator) {
    return new AuditInput(path, path.toString(), kind, description, tree, null, operator);
  }

  private static List<AuditInput> kubernetes(Path path, ConfigNode doc, String kind, String note)
      throws InputException {
    String object = kind + " " + doc.at("metadata.name").textOrEmpty();
    List<AuditInput> out = new ArrayList<>();
    switch (kind) {
      case "ConfigMap":
        for (Map.Entry<String, ConfigNode> e : doc.get("data").entries().entrySet()) {
          ConfigNode embedded = embedded(path, e.getValue());
          if (embedded == null || !embedded.isMapping()) {
            continue;
          }
          ConfigNode rooted = embedded.asRoot("data." + e.getKey());
          InputKind k = classifyEmbedded(rooted);
          if (k != null) {
            out.add(unit(path, k, k.label() + " in " + object.trim() + " data." + e.getKey() + note, rooted, false));
          }
        }
        return out;
      case "OpenTelemetryCollector": {
        ConfigNode config = doc.at("spec.config");
        ConfigNode tree = config.isMapping() ? config.asRoot("spec.config") : embedded(path, config);
        if (tree == null || !tree.isMapping()) {
          throw new InputException(object + ": spec.config is neither a mapping nor YAML text");
        }
        return List.of(unit(path, InputKind.COLLECTOR_CONFIG,
            "collector config in " + object.trim() + " spec.config (operator-managed)" + note,
            tree.asRoot("spec.config"), true));
      }
      default:
        workloadEnvironments(path, doc, object.trim(), out);
        return out; // Services and the like carry no configuration this audit reads
    }
  }

  /**
   * Pods of a Deployment, DaemonSet, StatefulSet, Job, CronJob or bare Pod: each container whose
   * {@code env:} sets an {@code OTEL_EXPORTER_OTLP_*} variable (with a literal {@code value}) is an
   * SDK environment. Values from {@code valueFrom} are not known here and count as unset.
   */
  private static void workloadEnvironments(Path path, ConfigNode doc, String object, List<AuditInput> out) {
    ConfigNode podSpec = doc.get("kind").textOrEmpty().equals("Pod") ? doc.get("spec")
        : doc.at("spec.template.spec").isPresent() ? doc.at("spec.template.spec")
        : doc.at("spec.jobTemplate.spec.template.spec");
    for (String list : List.of("initContainers", "containers")) {
      for (ConfigNode container : podSpec.get(list).items()) {
        Map<String, EnvFile.Entry> entries = new LinkedHashMap<>();
        for (ConfigNode variable : container.get("env").items()) {
          String name = variable.get("name").textOrEmpty();
          ConfigNode value = variable.get("value");
          if (!name.isEmpty() && value.text() != null) {
            entries.put(name, new EnvFile.Entry(value.text().trim(), value.line()));
          }
        }
        EnvFile env = EnvFile.of(entries);
        if (env.configuresOtlpExporter()) {
          out.add(new AuditInput(path, path.toString(), InputKind.SDK_ENV,
              "SDK environment of " + object + " container " + container.get("name").textOrEmpty(), null, env, false));
        }
      }
    }
  }

  /** A block-scalar value parsed as a YAML document whose lines continue the file's; null when it is not one. */
  private static ConfigNode embedded(Path path, ConfigNode value) {
    String text = value.text();
    if (text == null || !text.contains("\n")) {
      return null;
    }
    try {
      return ConfigNode.parse(text, path.toString(), value.blockTextOffset());
    } catch (YAMLException e) {
      return null; // a data entry that is not YAML (a script, a JSON dashboard with tabs...) is not ours
    }
  }

  private static InputKind classifyEmbedded(ConfigNode root) {
    if (root.at("storage.trace").isPresent() || root.at("distributor.receivers").isPresent()) {
      return InputKind.TEMPO_CONFIG;
    }
    return isCollector(root) ? InputKind.COLLECTOR_CONFIG : null;
  }

  /** docker-compose: one SDK environment per service that sets {@code OTEL_EXPORTER_OTLP_*}. Null when not compose. */
  private static List<AuditInput> compose(Path path, ConfigNode doc) {
    ConfigNode services = doc.get("services");
    if (!services.isMapping() || services.entries().values().stream().noneMatch(
        s -> s.get("image").isPresent() || s.get("build").isPresent() || s.get("environment").isPresent())) {
      return null;
    }
    List<AuditInput> out = new ArrayList<>();
    for (Map.Entry<String, ConfigNode> service : services.entries().entrySet()) {
      ConfigNode environment = service.getValue().get("environment");
      Map<String, EnvFile.Entry> entries = new LinkedHashMap<>();
      if (environment.isSequence()) {
        for (ConfigNode item : environment.items()) {
          Matcher m = COMPOSE_ENV_ITEM.matcher(item.textOrEmpty());
          if (m.matches() && m.group(2) != null) {
            entries.put(m.group(1), new EnvFile.Entry(unquote(m.group(2)), item.line()));
          }
        }
      } else {
        for (Map.Entry<String, ConfigNode> e : environment.entries().entrySet()) {
          if (e.getValue().text() != null) {
            entries.put(e.getKey(), new EnvFile.Entry(e.getValue().text().trim(), e.getValue().line()));
          }
        }
      }
      EnvFile env = EnvFile.of(entries);
      if (env.configuresOtlpExporter()) {
        out.add(new AuditInput(path, path.toString(), InputKind.SDK_ENV,
            "SDK environment of compose service " + service.getKey(), null, env, false));
      }
    }
    return out;
  }

  private static String unquote(String v) {
    String s = v.trim();
    if (s.length() >= 2 && (s.charAt(0) == '"' || s.charAt(0) == '\'') && s.charAt(s.length() - 1) == s.charAt(0)) {
      return s.substring(1, s.length() - 1);
    }
    return s;
  }

  /**
   * The collector configuration of Helm values: {@code config:} at the top or under a subchart key;
   * a non-empty {@code alternateConfig:} replaces it (the collector chart uses it instead of
   * {@code config}, unmerged, without defaults).
   */
  private static ConfigNode helmCollectorConfig(ConfigNode doc) {
    ConfigNode alternate = doc.get("alternateConfig");
    if (alternate.isMapping() && !alternate.entries().isEmpty()) {
      return alternate.asRoot("alternateConfig");
    }
    ConfigNode config = doc.get("config");
    if (config.isMapping() && isCollector(config) && !isCollector(doc)) {
      return config.asRoot("config");
    }
    for (Map.Entry<String, ConfigNode> e : doc.entries().entrySet()) {
      ConfigNode sub = e.getValue().get("config");
      if (e.getKey().contains("collector") && sub.isMapping() && isCollector(sub)) {
        return sub.asRoot(e.getKey() + ".config");
      }
    }
    return null;
  }

  /** Chart values of the collector chart: its own keys, no collector keys of its own besides {@code service}. */
  private static boolean isHelmValues(ConfigNode doc) {
    int chartKeys = 0;
    for (String k : List.of("mode", "image", "ports", "presets", "replicaCount", "podAnnotations", "extraVolumeMounts",
        "statefulset", "command")) {
      if (doc.get(k).isPresent()) {
        chartKeys++;
      }
    }
    return chartKeys >= 2 && !doc.get("receivers").isPresent() && !doc.get("exporters").isPresent();
  }

  private static boolean isCollector(ConfigNode doc) {
    return doc.isMapping() && (doc.get("receivers").isPresent() || doc.get("exporters").isPresent()
        || doc.get("processors").isPresent() || doc.get("connectors").isPresent()
        || (doc.get("service").isPresent() && doc.at("service.pipelines").isPresent()));
  }

  private static InputKind classifyOtlpShaped(ConfigNode root, String base) {
    boolean buffer = root.get("buffer").isPresent();
    boolean collectorish = root.get("service").isPresent() || root.get("processors").isPresent()
        || root.get("extensions").isPresent() || root.get("connectors").isPresent();
    if (buffer && !collectorish) {
      return InputKind.SPILLWAY_CONFIG;
    }
    if (root.get("receivers").isPresent() || root.get("exporters").isPresent() || collectorish) {
      if (!collectorish && base.contains("spillway")) {
        return InputKind.SPILLWAY_CONFIG;
      }
      boolean anyCollectorKey = root.entries().keySet().stream().anyMatch(COLLECTOR_KEYS::contains);
      return anyCollectorKey ? InputKind.COLLECTOR_CONFIG : null;
    }
    return null;
  }

  private static String describe(ConfigNode doc) {
    if (!doc.isMapping()) {
      return "the top level is " + (doc.isSequence() ? "a list" : "a single value") + ", not a mapping";
    }
    String kind = doc.get("kind").textOrEmpty();
    if (!kind.isEmpty()) {
      return "a Kubernetes " + kind + " without a configuration this audit reads";
    }
    List<String> keys = new ArrayList<>(doc.entries().keySet());
    return "top-level keys " + (keys.size() > 6 ? keys.subList(0, 6) + "..." : keys);
  }

  /**
   * "a Helm/Go template" or "a Terraform template" when the text is one, else null. Comment lines
   * do not count: chart values explain their templating in comments.
   */
  private static String templateKind(String original, String base) {
    String text = original.lines().filter(l -> !l.stripLeading().startsWith("#"))
        .collect(java.util.stream.Collectors.joining("\n"));
    if (GO_TEMPLATE.matcher(text).find() && (text.contains("{{-") || text.contains(".Values") || text.contains("{{ ")
        || base.endsWith(".tpl") || base.endsWith(".tmpl") || base.endsWith(".gotmpl"))) {
      return "a Helm/Go template";
    }
    if (base.endsWith(".tpl") || base.endsWith(".tmpl") || base.endsWith(".j2")) {
      return TERRAFORM_TEMPLATE.matcher(text).find() ? "a Terraform template; ${...} values are not rendered"
          : "a template";
    }
    return null;
  }

  static String readText(Path path) throws InputException {
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
    } catch (AccessDeniedException e) {
      throw new InputException("permission denied");
    } catch (IOException e) {
      throw new InputException("cannot read: " + e);
    }
  }
}
