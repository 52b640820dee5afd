package dev.spillway.core.export.internal;

import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.common.InstrumentationScopeInfoBuilder;
import io.opentelemetry.sdk.resources.Resource;

/**
 * {@link Resource} and {@link InstrumentationScopeInfo} to and from their OTLP messages, the
 * envelope every signal shares. Schema urls travel beside the messages (in {@code Resource*} and
 * {@code Scope*}), so the caller passes them. Decoded attributes are the SDK's own sorted {@code
 * Attributes}: the order the SDK writes them in, so decoded resources and scopes equal the
 * originals and encode to the same bytes.
 */
final class OtlpResourceScope {
  private OtlpResourceScope() {}

  static io.opentelemetry.proto.resource.v1.Resource toProto(Resource resource) {
    return io.opentelemetry.proto.resource.v1.Resource.newBuilder()
        .addAllAttributes(OtlpAttributes.toProto(resource.getAttributes()))
        .build();
  }

  static InstrumentationScope toProto(InstrumentationScopeInfo scope) {
    InstrumentationScope.Builder b =
        InstrumentationScope.newBuilder()
            .setName(scope.getName())
            .addAllAttributes(OtlpAttributes.toProto(scope.getAttributes()));
    if (scope.getVersion() != null) {
      b.setVersion(scope.getVersion());
    }
    return b.build();
  }

  static Resource fromProto(io.opentelemetry.proto.resource.v1.Resource resource, String schemaUrl) {
    return Resource.create(
        OtlpAttributes.fromProtoSorted(resource.getAttributesList()), emptyToNull(schemaUrl));
  }

  static InstrumentationScopeInfo fromProto(InstrumentationScope scope, String schemaUrl) {
    InstrumentationScopeInfoBuilder b = InstrumentationScopeInfo.builder(scope.getName());
    if (!scope.getVersion().isEmpty()) {
      b.setVersion(scope.getVersion());
    }
    if (!schemaUrl.isEmpty()) {
      b.setSchemaUrl(schemaUrl);
    }
    if (scope.getAttributesCount() > 0) {
      b.setAttributes(OtlpAttributes.fromProtoSorted(scope.getAttributesList()));
    }
    return b.build();
  }

  /** proto3 strings have no null: an empty one means unset. */
  static String emptyToNull(String s) {
    return s.isEmpty() ? null : s;
  }
}
