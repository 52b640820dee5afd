package dev.spillway.server.config;

/**
 * A configuration that cannot be used. The message names the file, the line and column, and the
 * key path ({@code receivers.otlp.protocols.grpc.tls}), so an operator can go straight to it.
 */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Each error on its own line, in file order; one element for a single error. */
  private final java.util.List<String> problems;

  public ConfigException(String message) {
    super(message);
    this.problems = java.util.List.of(message);
  }

  /** Several errors found in one reading of the file, reported together. */
  public static ConfigException of(java.util.List<ConfigException> all) {
    if (all.size() == 1) {
      return all.get(0);
    }
    java.util.List<String> lines = all.stream().map(Throwable::getMessage).distinct()
        .sorted(java.util.Comparator.comparingLong(ConfigException::position)).toList();
    return new ConfigException(lines);
  }

  private ConfigException(java.util.List<String> lines) {
    super(lines.size() + " errors:\n  " + String.join("\n  ", lines));
    this.problems = java.util.List.copyOf(lines);
  }

  private static final java.util.regex.Pattern POSITION = java.util.regex.Pattern.compile(":(\\d+):(\\d+): ");

  /** line and column of "file:line:column: ..." as one sortable number (unpositioned last). */
  private static long position(String message) {
    java.util.regex.Matcher m = POSITION.matcher(message);
    return m.find() ? Long.parseLong(m.group(1)) * 100_000 + Long.parseLong(m.group(2)) : Long.MAX_VALUE;
  }

  /** The individual errors (file:line:column: key: reason). */
  public java.util.List<String> problems() {
    return problems;
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
    this.problems = java.util.List.of(message);
  }
}
