package dev.spillway.server.config;

import dev.spillway.core.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * One mapping of the YAML tree, with its key path and file position, so every error can say where.
 * Reading a key marks it as known; {@link #finish()} refuses the keys nobody read (a typo such as
 * {@code client_ca_fle} must not silently turn mTLS off), naming the nearest known key.
 *
 * <p>Errors in a value (not an integer, not one of the allowed words, an unknown key) are collected
 * in the {@code problems} list shared by the whole tree, and reading goes on with the default, so
 * one run reports every such error; errors that leave nothing to go on are thrown. Not
 * thread-safe.
 */
final class YamlSection {
  private static final Pattern ENV = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}|\\$\\$");

  private final String file;
  private final String path;
  private final Node node;
  private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
  private final Set<String> read = new LinkedHashSet<>();
  private final Function<String, String> env;
  private final List<ConfigException> problems;

  private YamlSection(String file, String path, Node node, Function<String, String> env,
      List<ConfigException> problems) throws ConfigException {
    this.file = file;
    this.path = path;
    this.node = node;
    this.env = env;
    this.problems = problems;
    if (!(node instanceof MappingNode mapping)) {
      throw error(node, path, "must be a mapping");
    }
    for (NodeTuple t : mapping.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode key)) {
        throw error(t.getKeyNode(), path, "keys must be plain strings");
      }
      if (entries.put(key.getValue(), t) != null) {
        throw error(key, child(key.getValue()), "duplicate key");
      }
    }
  }

  /** The top of the tree; {@code problems} collects the errors reported rather than thrown. */
  static YamlSection root(String file, Node node, Function<String, String> env, List<ConfigException> problems)
      throws ConfigException {
    return new YamlSection(file, "", node, env, problems);
  }

  /** Records an error and lets reading go on. */
  void report(ConfigException e) {
    problems.add(e);
  }

  /** Marks keys as known (for finish() and its suggestions) without reading them. */
  void expect(String... keys) {
    read.addAll(List.of(keys));
  }

  /** The keys present in this mapping, in file order. */
  Set<String> keys() {
    return java.util.Collections.unmodifiableSet(entries.keySet());
  }

  String path() {
    return path;
  }

  boolean has(String key) {
    return entries.containsKey(key);
  }

  /** Whether the key is present with a null value ({@code http:} alone, as the collector allows). */
  boolean isEmpty(String key) {
    NodeTuple t = entries.get(key);
    return t != null
        && t.getValueNode() instanceof ScalarNode s
        && isNull(s);
  }

  Optional<YamlSection> section(String key) throws ConfigException {
    NodeTuple t = entries.get(key);
    read.add(key);
    if (t == null) {
      return Optional.empty();
    }
    Node v = t.getValueNode();
    if (v instanceof ScalarNode s && isNull(s)) {
      // "http:" with nothing under it: present, all defaults.
      return Optional.of(emptyAt(v, child(key)));
    }
    return Optional.of(new YamlSection(file, child(key), v, env, problems));
  }

  Optional<String> string(String key) throws ConfigException {
    NodeTuple t = entries.get(key);
    read.add(key);
    if (t == null) {
      return Optional.empty();
    }
    Node v = t.getValueNode();
    if (!(v instanceof ScalarNode s)) {
      throw error(v, child(key), "must be a single value");
    }
    if (isNull(s)) {
      return Optional.empty();
    }
    String expanded = expand(s.getValue(), v, child(key));
    return Optional.of(expanded);
  }

  String string(String key, String defaultValue) throws ConfigException {
    return string(key).orElse(defaultValue);
  }

  String requiredString(String key) throws ConfigException {
    Optional<String> s = string(key);
    if (s.isEmpty() || s.get().isBlank()) {
      Optional<String> typo = unreadNear(key);
      if (typo.isPresent()) {
        read.add(typo.get()); // reported here, not again by finish()
        throw error(entries.get(typo.get()).getKeyNode(), child(typo.get()),
            "unknown key; did you mean '" + key + "'? (" + key + " is required)");
      }
      throw error(entries.containsKey(key) ? entries.get(key).getValueNode() : node, child(key),
          "is required");
    }
    return s.get();
  }

  /**
   * Reports that {@code key} is missing, with {@code message}, unless a present key that nobody
   * read is a likely typo of it: {@link #finish()} then names that one ("did you mean"), which is
   * the real mistake.
   */
  void reportMissing(String key, String message) {
    if (unreadNear(key).isEmpty()) {
      report(errorHere(message));
    }
  }

  /** A present, not yet read key within a small edit distance of {@code key}. */
  private Optional<String> unreadNear(String key) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : entries.keySet()) {
      if (read.contains(k)) {
        continue;
      }
      int d = editDistance(k, key);
      if (d <= maxTypoDistance(key) && d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    return Optional.ofNullable(best);
  }

  long integer(String key, long defaultValue, long min, long max) throws ConfigException {
    Optional<String> s = string(key);
    if (s.isEmpty()) {
      return defaultValue;
    }
    long v;
    try {
      v = Long.parseLong(s.get().trim());
    } catch (NumberFormatException e) {
      report(error(valueNode(key), child(key), "'" + s.get() + "' is not an integer"));
      return defaultValue;
    }
    if (v < min || v > max) {
      report(error(valueNode(key), child(key), "must be between " + min + " and " + max + ", got " + v));
      return defaultValue;
    }
    return v;
  }

  boolean bool(String key, boolean defaultValue) throws ConfigException {
    Optional<String> s = string(key);
    if (s.isEmpty()) {
      return defaultValue;
    }
    return switch (s.get().trim()) {
      case "true" -> true;
      case "false" -> false;
      default -> {
        report(error(valueNode(key), child(key), "must be true or false, got '" + s.get() + "'"));
        yield defaultValue;
      }
    };
  }

  Duration duration(String key, Duration defaultValue) throws ConfigException {
    Optional<String> s = string(key);
    if (s.isEmpty()) {
      return defaultValue;
    }
    try {
      return Durations.parse(s.get(), child(key));
    } catch (IllegalArgumentException e) {
      report(error(valueNode(key), child(key), e.getMessage().replaceFirst("^" + Pattern.quote(child(key)) + ": ", "")));
      return defaultValue;
    }
  }

  /** A value restricted to a fixed set, e.g. {@code client_auth: require|none}. */
  String oneOf(String key, String defaultValue, String... allowed) throws ConfigException {
    Optional<String> s = string(key);
    if (s.isEmpty()) {
      return defaultValue;
    }
    for (String a : allowed) {
      if (a.equals(s.get())) {
        return a;
      }
    }
    report(error(valueNode(key), child(key),
        "'" + s.get() + "' is not one of " + String.join(", ", allowed)));
    return defaultValue;
  }

  List<String> stringList(String key) throws ConfigException {
    NodeTuple t = entries.get(key);
    read.add(key);
    if (t == null || (t.getValueNode() instanceof ScalarNode s && isNull(s))) {
      return List.of();
    }
    if (!(t.getValueNode() instanceof SequenceNode seq)) {
      throw error(t.getValueNode(), child(key), "must be a list");
    }
    List<String> out = new ArrayList<>();
    for (Node n : seq.getValue()) {
      if (!(n instanceof ScalarNode s)) {
        throw error(n, child(key), "entries must be single values");
      }
      out.add(expand(s.getValue(), n, child(key)));
    }
    return List.copyOf(out);
  }

  /**
   * A list of mappings such as {@code readers} or the collector's {@code headers: [{name, value}]};
   * each element's path is {@code key[i]}.
   */
  List<YamlSection> sectionList(String key) throws ConfigException {
    NodeTuple t = entries.get(key);
    read.add(key);
    if (t == null || (t.getValueNode() instanceof ScalarNode s && isNull(s))) {
      return List.of();
    }
    if (!(t.getValueNode() instanceof SequenceNode seq)) {
      throw error(t.getValueNode(), child(key), "must be a list");
    }
    List<YamlSection> out = new ArrayList<>();
    int i = 0;
    for (Node n : seq.getValue()) {
      out.add(new YamlSection(file, child(key) + "[" + i++ + "]", n, env, problems));
    }
    return List.copyOf(out);
  }

  /** A flat string map such as {@code headers}. Values are expanded; keys are not. */
  Map<String, String> stringMap(String key) throws ConfigException {
    Optional<YamlSection> sub = section(key);
    if (sub.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String k : sub.get().entries.keySet()) {
      out.put(k, sub.get().string(k).orElse(""));
    }
    return out;
  }

  /**
   * Reports keys that were never read: they are typos or settings this daemon does not have. The
   * nearest key that was asked for (present or not) is suggested.
   */
  void finish() {
    for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
      if (!read.contains(e.getKey())) {
        String message = "unknown key";
        Optional<String> near = nearestKnown(e.getKey());
        if (near.isPresent()) {
          message += "; did you mean '" + near.get() + "'?";
        }
        report(error(e.getValue().getKeyNode(), child(e.getKey()), message));
      }
    }
  }

  private Optional<String> nearestKnown(String unknown) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : read) {
      if (entries.containsKey(k) && k.equals(unknown)) {
        continue;
      }
      int d = editDistance(unknown, k);
      if (d <= maxTypoDistance(k) && d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    return Optional.ofNullable(best);
  }

  /** How far a typo may be from the key it was meant to be: 1 for short keys, up to 3. */
  private static int maxTypoDistance(String key) {
    return Math.max(1, Math.min(3, key.length() / 4));
  }

  /** Levenshtein distance (insertions, deletions, substitutions). */
  static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  ConfigException errorAt(String key, String message) {
    NodeTuple t = entries.get(key);
    return error(t != null ? t.getValueNode() : node, key.isEmpty() ? path : child(key), message);
  }

  ConfigException errorHere(String message) {
    return error(node, path, message);
  }

  private Node valueNode(String key) {
    return entries.get(key).getValueNode();
  }

  private String child(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  private String expand(String raw, Node at, String keyPath) throws ConfigException {
    Matcher m = ENV.matcher(raw);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group(1) == null) {
        replacement = "$";
      } else {
        replacement = env.apply(m.group(1));
        if (replacement == null) {
          // Fail closed: the collector expands a missing variable to "", which can turn a
          // certificate path into nothing at all.
          throw error(at, keyPath, "environment variable " + m.group(1) + " is not set");
        }
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  private YamlSection emptyAt(Node at, String childPath) throws ConfigException {
    MappingNode empty =
        new MappingNode(
            org.yaml.snakeyaml.nodes.Tag.MAP, false, new ArrayList<NodeTuple>(), at.getStartMark(), at.getEndMark(),
            org.yaml.snakeyaml.DumperOptions.FlowStyle.BLOCK);
    return new YamlSection(file, childPath, empty, env, problems);
  }

  private static boolean isNull(ScalarNode s) {
    return s.getTag().equals(org.yaml.snakeyaml.nodes.Tag.NULL);
  }

  ConfigException error(Node at, String keyPath, String message) {
    return new ConfigException(position(file, at.getStartMark()) + ": " + (keyPath.isEmpty() ? "" : keyPath + ": ") + message);
  }

  static String position(String file, Mark mark) {
    if (mark == null) {
      return file;
    }
    return file + ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1);
  }
}
