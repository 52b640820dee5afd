package dev.spillway.server.config;

/**
 * A configuration that cannot be used. The message names the file, the line and column, and the
 * key path ({@code receivers.otlp.protocols.grpc.tls}), so an operator can go straight to it.
 */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
