package dev.spillway.server.audit;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A read-only view of a YAML (or JSON) document that remembers where each value was: its dotted
 * key path and its line. Navigating to a key that is not there gives a <em>missing</em> node
 * rather than null, so rules read like the configuration they check.
 */
final class ConfigNode {

  private final Node node; // null when missing
  private final String path;
  private final int line; // of the node, or of the nearest present ancestor when missing

  private ConfigNode(Node node, String path, int line) {
    this.node = node;
    this.path = path;
    this.line = line;
  }

  /**
   * Parses one document. Anchors and aliases are resolved by SnakeYAML; a stream with several
   * documents is an error.
   *
   * @throws org.yaml.snakeyaml.error.YAMLException when the text is not YAML
   */
  static ConfigNode parse(String text) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(50);
    Node root = new Yaml(new SafeConstructor(options)).compose(new StringReader(text));
    if (root == null) {
      return new ConfigNode(null, "", 0);
    }
    rejectDuplicateKeys(root, 0);
    return new ConfigNode(root, "", root.getStartMark().getLine() + 1);
  }

  /**
   * compose() does not apply LoaderOptions' duplicate-key check (the constructor does), and a
   * shadowed key would hide a finding, so the tree is checked here. Depth-bounded.
   */
  private static void rejectDuplicateKeys(Node node, int depth) {
    if (depth > 100) {
      throw new YAMLException("nesting deeper than 100 levels");
    }
    if (node instanceof MappingNode) {
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (NodeTuple t : ((MappingNode) node).getValue()) {
        if (t.getKeyNode() instanceof ScalarNode) {
          String k = ((ScalarNode) t.getKeyNode()).getValue();
          if (!seen.add(k)) {
            throw new YAMLException("duplicate key '" + k + "' at line " + (t.getKeyNode().getStartMark().getLine() + 1));
          }
        }
        rejectDuplicateKeys(t.getValueNode(), depth + 1);
      }
    } else if (node instanceof SequenceNode) {
      for (Node n : ((SequenceNode) node).getValue()) {
        rejectDuplicateKeys(n, depth + 1);
      }
    }
  }

  boolean isPresent() {
    return node != null;
  }

  boolean isMapping() {
    return node instanceof MappingNode;
  }

  boolean isSequence() {
    return node instanceof SequenceNode;
  }

  /** Present but written as {@code key:} with no value, or {@code null}/{@code ~}. */
  boolean isNull() {
    return node instanceof ScalarNode && node.getTag().equals(Tag.NULL);
  }

  /** The child under {@code key}; a missing node when this is not a mapping or has no such key. */
  ConfigNode get(String key) {
    String childPath = path.isEmpty() ? key : path + "." + key;
    if (node instanceof MappingNode) {
      for (NodeTuple t : ((MappingNode) node).getValue()) {
        if (t.getKeyNode() instanceof ScalarNode
            && key.equals(((ScalarNode) t.getKeyNode()).getValue())) {
          Node v = t.getValueNode();
          return new ConfigNode(v, childPath, t.getKeyNode().getStartMark().getLine() + 1);
        }
      }
    }
    return new ConfigNode(null, childPath, line);
  }

  /** Follows a dotted path of keys; none of the keys may contain a dot. */
  ConfigNode at(String dottedPath) {
    ConfigNode n = this;
    for (String k : dottedPath.split("\\.")) {
      n = n.get(k);
    }
    return n;
  }

  /** The children of a mapping in file order, keyed by their (scalar) keys. */
  Map<String, ConfigNode> entries() {
    if (!(node instanceof MappingNode)) {
      return Collections.emptyMap();
    }
    Map<String, ConfigNode> out = new LinkedHashMap<>();
    for (NodeTuple t : ((MappingNode) node).getValue()) {
      if (t.getKeyNode() instanceof ScalarNode) {
        String k = ((ScalarNode) t.getKeyNode()).getValue();
        out.put(k, get(k));
      }
    }
    return out;
  }

  List<ConfigNode> items() {
    if (!(node instanceof SequenceNode)) {
      return Collections.emptyList();
    }
    List<ConfigNode> out = new ArrayList<>();
    List<Node> values = ((SequenceNode) node).getValue();
    for (int i = 0; i < values.size(); i++) {
      Node v = values.get(i);
      out.add(new ConfigNode(v, path + "[" + i + "]", v.getStartMark().getLine() + 1));
    }
    return out;
  }

  /** The scalar text, or null when missing, null-valued or not a scalar. */
  String text() {
    if (node instanceof ScalarNode && !isNull()) {
      return ((ScalarNode) node).getValue();
    }
    return null;
  }

  /** The scalar text, or {@code ""} when there is none; convenient for "is it set" checks. */
  String textOrEmpty() {
    String t = text();
    return t == null ? "" : t.trim();
  }

  /** True for a scalar {@code true} in any case (YAML 1.1 also reads yes/on as true). */
  boolean isTrue() {
    String t = textOrEmpty().toLowerCase(Locale.ROOT);
    return t.equals("true") || t.equals("yes") || t.equals("on");
  }

  /** A scalar or each scalar of a sequence; IAM allows both for Action and Resource. */
  List<String> texts() {
    if (isSequence()) {
      List<String> out = new ArrayList<>();
      for (ConfigNode item : items()) {
        if (item.text() != null) {
          out.add(item.text());
        }
      }
      return out;
    }
    String t = text();
    return t == null ? Collections.emptyList() : List.of(t);
  }

  String path() {
    return path;
  }

  int line() {
    return line;
  }
}
