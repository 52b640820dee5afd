package dev.spillway.server.audit;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
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
 * key path, its file and its line. Navigating to a key that is not there gives a <em>missing</em>
 * node rather than null, so rules read like the configuration they check.
 *
 * <p>A tree can be embedded in another file (a ConfigMap's {@code data.relay: |} block, a Helm
 * values {@code config:} key) or merged from several files ({@code --config a --config b}): every
 * SnakeYAML node keeps its {@link Origin}, so a finding names the file and line an operator edits.
 */
final class ConfigNode {

  /** The file a node was read from and the line of that file where its text starts (0-based). */
  record Origin(String file, int lineOffset) {}

  private static final Origin NOWHERE = new Origin("", 0);

  private final Node node; // null when missing
  private final String path;
  private final int line; // of the node, or of the nearest present ancestor when missing
  private final String file; // of the node, or of the nearest present ancestor when missing
  private final Map<Node, Origin> origins; // identity map shared by every node of the tree

  private ConfigNode(Node node, String path, int line, String file, Map<Node, Origin> origins) {
    this.node = node;
    this.path = path;
    this.line = line;
    this.file = file;
    this.origins = origins;
  }

  /**
   * Parses one document. Anchors and aliases are resolved by SnakeYAML; a stream with several
   * documents is an error.
   *
   * @throws org.yaml.snakeyaml.error.YAMLException when the text is not YAML
   */
  static ConfigNode parse(String text) {
    return parse(text, "", 0);
  }

  /** Parses one document of {@code file} whose text starts after line {@code lineOffset}. */
  static ConfigNode parse(String text, String file, int lineOffset) {
    Node root = new Yaml(new SafeConstructor(options())).compose(new StringReader(text));
    return root(root, file, lineOffset, "");
  }

  /** Parses every document of a stream ({@code ---} separated); empty documents are skipped. */
  static List<ConfigNode> parseAll(String text, String file) {
    List<ConfigNode> out = new ArrayList<>();
    for (Node root : new Yaml(new SafeConstructor(options())).composeAll(new StringReader(text))) {
      if (root != null) {
        out.add(root(root, file, 0, ""));
      }
    }
    return out;
  }

  private static LoaderOptions options() {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(50);
    return options;
  }

  private static ConfigNode root(Node root, String file, int lineOffset, String pathPrefix) {
    if (root == null) {
      return new ConfigNode(null, pathPrefix, 0, file, new IdentityHashMap<>());
    }
    rejectDuplicateKeys(root, 0);
    Map<Node, Origin> origins = new IdentityHashMap<>();
    recordOrigins(root, new Origin(file, lineOffset), origins, 0);
    return new ConfigNode(root, pathPrefix, root.getStartMark().getLine() + 1 + lineOffset, file, origins);
  }

  private static void recordOrigins(Node node, Origin origin, Map<Node, Origin> origins, int depth) {
    if (depth > 100 || origins.put(node, origin) != null) {
      return; // aliases share nodes; depth is bounded by rejectDuplicateKeys already
    }
    if (node instanceof MappingNode) {
      for (NodeTuple t : ((MappingNode) node).getValue()) {
        recordOrigins(t.getKeyNode(), origin, origins, depth + 1);
        recordOrigins(t.getValueNode(), origin, origins, depth + 1);
      }
    } else if (node instanceof SequenceNode) {
      for (Node n : ((SequenceNode) node).getValue()) {
        recordOrigins(n, origin, origins, depth + 1);
      }
    }
  }

  /** This node as the root of a tree whose key paths start with {@code prefix} (for embedded configs). */
  ConfigNode asRoot(String prefix) {
    return new ConfigNode(node, prefix, line, file, origins);
  }

  /**
   * Merges configuration files the way their tools do: mappings key by key, recursively; anything
   * else (sequences, scalars) is replaced by the later file. With {@code nullDeletes} (Helm values)
   * a key set to null in the overlay removes it; without it (the collector) null is a value.
   */
  static ConfigNode merge(ConfigNode base, ConfigNode overlay, boolean nullDeletes) {
    if (!overlay.isPresent()) {
      return base;
    }
    if (!base.isPresent()) {
      return overlay;
    }
    Map<Node, Origin> origins = new IdentityHashMap<>(base.origins);
    origins.putAll(overlay.origins);
    Node merged = mergeNodes(base.node, overlay.node, nullDeletes, origins, 0);
    return new ConfigNode(merged, base.path, base.line, base.file, origins);
  }

  private static Node mergeNodes(Node base, Node overlay, boolean nullDeletes, Map<Node, Origin> origins, int depth) {
    if (!(base instanceof MappingNode) || !(overlay instanceof MappingNode) || depth > 100) {
      return overlay;
    }
    Map<String, NodeTuple> out = new LinkedHashMap<>();
    List<NodeTuple> others = new ArrayList<>();
    for (NodeTuple t : ((MappingNode) base).getValue()) {
      if (t.getKeyNode() instanceof ScalarNode) {
        out.put(((ScalarNode) t.getKeyNode()).getValue(), t);
      } else {
        others.add(t);
      }
    }
    for (NodeTuple t : ((MappingNode) overlay).getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode)) {
        others.add(t);
        continue;
      }
      String key = ((ScalarNode) t.getKeyNode()).getValue();
      Node v = t.getValueNode();
      boolean isNull = v instanceof ScalarNode && v.getTag().equals(Tag.NULL);
      NodeTuple existing = out.get(key);
      if (isNull && nullDeletes) {
        out.remove(key);
      } else if (existing == null) {
        out.put(key, t);
      } else {
        // the key stays where the base wrote it unless the overlay replaces the whole value
        Node mergedValue = mergeNodes(existing.getValueNode(), v, nullDeletes, origins, depth + 1);
        out.put(key, new NodeTuple(mergedValue == v ? t.getKeyNode() : existing.getKeyNode(), mergedValue));
      }
    }
    List<NodeTuple> tuples = new ArrayList<>(out.values());
    tuples.addAll(others);
    MappingNode merged = new MappingNode(Tag.MAP, true, tuples, base.getStartMark(), base.getEndMark(),
        DumperOptions.FlowStyle.BLOCK);
    origins.put(merged, origins.getOrDefault(base, NOWHERE));
    return merged;
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
          Origin o = origins.getOrDefault(t.getKeyNode(), NOWHERE);
          return new ConfigNode(v, childPath, t.getKeyNode().getStartMark().getLine() + 1 + o.lineOffset(),
              o.file(), origins);
        }
      }
    }
    return new ConfigNode(null, childPath, line, file, origins);
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
      Origin o = origins.getOrDefault(v, NOWHERE);
      out.add(new ConfigNode(v, path + "[" + i + "]", v.getStartMark().getLine() + 1 + o.lineOffset(), o.file(),
          origins));
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

  /** The file this node (or its nearest present ancestor) was read from; empty when not known. */
  String file() {
    return file;
  }

  /** A block scalar's text starts on the line after its key: the offset for parsing it as a document. */
  int blockTextOffset() {
    return line;
  }
}
