package dev.spillway.core.export.internal;

import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** SDK items grouped as OTLP nests them: by resource, then by instrumentation scope. */
final class ResourceScopeGroups {
  private ResourceScopeGroups() {}

  /**
   * By resource, then scope, each in order of first appearance, items in their given order. Items
   * of one SDK share their Resource and scope objects: the same instances as the item before join
   * its group without hashing them (Resource hashes its attributes on every call).
   */
  static <T> Map<Resource, Map<InstrumentationScopeInfo, List<T>>> of(
      Collection<? extends T> items,
      Function<? super T, Resource> resourceOf,
      Function<? super T, InstrumentationScopeInfo> scopeOf) {
    Map<Resource, Map<InstrumentationScopeInfo, List<T>>> grouped = new LinkedHashMap<>();
    Resource lastResource = null;
    InstrumentationScopeInfo lastScope = null;
    List<T> lastGroup = null;
    for (T item : items) {
      Resource resource = resourceOf.apply(item);
      InstrumentationScopeInfo scope = scopeOf.apply(item);
      if (lastGroup == null || resource != lastResource || scope != lastScope) {
        lastGroup = grouped
            .computeIfAbsent(resource, r -> new LinkedHashMap<>())
            .computeIfAbsent(scope, i -> new ArrayList<>());
        lastResource = resource;
        lastScope = scope;
      }
      lastGroup.add(item);
    }
    return grouped;
  }
}
