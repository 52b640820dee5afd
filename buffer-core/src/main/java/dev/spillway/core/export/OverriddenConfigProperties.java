package dev.spillway.core.export;

import io.opentelemetry.common.ComponentLoader;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The host's configuration with a few string properties replaced, for building the delegate. */
final class OverriddenConfigProperties implements ConfigProperties {
  private final ConfigProperties config;
  private final Map<String, String> overrides;

  OverriddenConfigProperties(ConfigProperties config, Map<String, String> overrides) {
    this.config = config;
    this.overrides = Map.copyOf(overrides);
  }

  @Override
  public String getString(String name) {
    String v = overrides.get(name);
    return v != null ? v : config.getString(name);
  }

  @Override
  public Boolean getBoolean(String name) {
    return config.getBoolean(name);
  }

  @Override
  public Integer getInt(String name) {
    return config.getInt(name);
  }

  @Override
  public Long getLong(String name) {
    return config.getLong(name);
  }

  @Override
  public Double getDouble(String name) {
    return config.getDouble(name);
  }

  @Override
  public Duration getDuration(String name) {
    return config.getDuration(name);
  }

  @Override
  public List<String> getList(String name) {
    return config.getList(name);
  }

  @Override
  public Map<String, String> getMap(String name) {
    return config.getMap(name);
  }

  @Override
  public ComponentLoader getComponentLoader() {
    return config.getComponentLoader();
  }
}
