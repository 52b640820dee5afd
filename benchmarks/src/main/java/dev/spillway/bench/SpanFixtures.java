package dev.spillway.bench;

import dev.spillway.core.export.internal.OtlpSpans;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.trace.TestSpanData;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/**
 * Realistic spans of the kind the reference article worries about: user ids, e-mail addresses,
 * SQL statements with literals, JWT-like bearer fragments, session ids; about 20 attributes and a
 * few events per span, about 980 bytes per span as OTLP protobuf (the issue asked for ~880; these
 * carry the same kinds of fields with semantic-convention key names, which are long).
 *
 * <p>Deterministic (fixed seed): every benchmark, the renderer and the compression-ratio step see
 * the same bytes for the same batch size. The SDK {@link SpanData} is the source; the OTLP bytes
 * are its mapping through buffer-core's {@code OtlpSpans} (what {@code SpillingSpanExporter}
 * writes), so the embedded-path and disk-buffering
 * benchmarks and the byte-level benchmarks measure the same spans.
 */
public final class SpanFixtures {
  /** The batch sizes every benchmark takes as its {@code @Param}. */
  public static final String[] BATCH_SIZES = {"128", "512", "8192"};

  private static final long SEED = 0x5b111a7L;
  private static final String[] ROUTES = {
    "/api/v2/orders/{id}", "/api/v2/users/{id}/profile", "/checkout/pay", "/api/v2/cart",
    "/auth/token/refresh", "/api/v2/search", "/internal/billing/invoice/{id}"
  };
  private static final String[] TABLES = {"orders", "users", "payments", "sessions", "invoices"};
  private static final String[] FIRST = {"alice", "bob", "carol", "dmitri", "eve", "farah", "gus",
    "hana", "ivan", "jules", "kofi", "lena", "mateo", "noor", "olga", "priya"};
  private static final String[] DOMAINS = {"ex.com", "mail.ex.org", "corp.ex.net"};
  private static final String[] SERVICES = {"checkout", "cart", "accounts", "billing"};


  private SpanFixtures() {}

  /** {@code n} spans, the same ones for the same n. */
  public static List<SpanData> spans(int n) {
    Random r = new Random(SEED);
    Resource resource =
        Resource.getDefault().merge(Resource.create(Attributes.builder()
            .put("service.name", "checkout")
            .put("service.version", "4.12.7")
            .put("deployment.environment.name", "production")
            .put("host.name", "ip-10-20-31-44.eu-west-1.compute.internal")
            .put("k8s.pod.name", "checkout-7f9c6d8b5-xk2lp")
            .put("k8s.namespace.name", "shop")
            .build()));
    InstrumentationScopeInfo scope =
        InstrumentationScopeInfo.builder("io.opentelemetry.spring-webmvc-6.0").setVersion("2.21.0").build();
    List<SpanData> out = new ArrayList<>(n);
    long base = 1_764_000_000_000_000_000L;
    String traceId = hex(r, 16);
    String parent = hex(r, 8);
    for (int i = 0; i < n; i++) {
      if (i % 8 == 0) {
        traceId = hex(r, 16);
        parent = hex(r, 8);
      }
      String user = FIRST[r.nextInt(FIRST.length)] + "." + FIRST[r.nextInt(FIRST.length)];
      String email = user + (r.nextInt(90) + 10) + "@" + DOMAINS[r.nextInt(DOMAINS.length)];
      long userId = 100_000 + r.nextInt(9_000_000);
      String table = TABLES[r.nextInt(TABLES.length)];
      String route = ROUTES[r.nextInt(ROUTES.length)];
      long start = base + i * 1_500_000L + r.nextInt(1_000_000);
      long end = start + 200_000 + r.nextInt(40_000_000);
      AttributesBuilder a = Attributes.builder()
          .put("http.request.method", r.nextInt(4) == 0 ? "POST" : "GET")
          .put("http.route", route)
          .put("url.full", "https://shop.example.com" + route.replace("{id}", Long.toString(userId))
          )
          .put("http.response.status_code", r.nextInt(20) == 0 ? 500 : 200)
          .put("client.address", "10." + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256))
          .put("user_agent.original", "Chrome/131.0." + r.nextInt(9999))
          .put("enduser.id", Long.toString(userId))
          .put("user.email", email)
          .put("app.tenant.id", "tenant-" + r.nextInt(400))
          .put("app.session.id", hex(r, 8))
          .put("http.request.header.authorization", "Bearer " + jwtFragment(r))
          .put("db.system.name", "postgresql")
          .put("db.namespace", "shop_" + table)
          .put("db.query.text", "SELECT * FROM " + table
              + " WHERE user_id = " + userId + " AND email = '" + email + "'")
          .put("db.response.returned_rows", r.nextInt(50))
          .put("thread.name", "exec-" + r.nextInt(200))
          .put("app.order.amount", r.nextInt(100_000) / 100.0)
          .put("app.cart.items", r.nextInt(12))
          .put("net.peer.port", 5432)
          .put("app.retry", r.nextInt(10) == 0);
      List<EventData> events = new ArrayList<>(3);
      events.add(EventData.create(start + 50_000, "cache.lookup",
          Attributes.builder().put("cache.hit", r.nextBoolean()).build()));
      events.add(EventData.create(start + 120_000, "db.query.start", Attributes.empty()));
      if (r.nextInt(10) == 0) {
        events.add(EventData.create(end - 10_000, "exception", Attributes.builder()
            .put("exception.type", "org.postgresql.util.PSQLException")
            .put("exception.message", "ERROR: deadlock detected for user " + email)
            .build()));
      }
      out.add(TestSpanData.builder()
          .setSpanContext(SpanContext.create(traceId, hex(r, 8), TraceFlags.getSampled(), TraceState.getDefault()))
          .setParentSpanContext(SpanContext.create(traceId, parent, TraceFlags.getSampled(), TraceState.getDefault()))
          .setResource(resource)
          .setInstrumentationScopeInfo(scope)
          .setName((r.nextInt(4) == 0 ? "POST " : "GET ") + route)
          .setKind(SpanKind.SERVER)
          .setStartEpochNanos(start)
          .setEndEpochNanos(end)
          .setHasEnded(true)
          .setAttributes(a.build())
          .setTotalAttributeCount(20)
          .setEvents(events)
          .setTotalRecordedEvents(events.size())
          .setStatus(r.nextInt(20) == 0 ? StatusData.create(StatusCode.ERROR, "upstream failed") : StatusData.unset())
          .build());
    }
    return out;
  }

  /**
   * {@code n} spans shaped like those of the collector's own load generator, {@code telemetrygen
   * traces}: pairs of a client span {@code lets-go} and its server child {@code okey-dokey-0}, each
   * with the two attributes telemetrygen sets ({@code network.peer.address}, {@code peer.service}),
   * no events, under a {@code service.name=telemetrygen} resource; about 150 bytes per span as
   * OTLP, a sixth of {@link #spans}. The lean end of real spans, where what is paid per span and
   * per request (tags, ids, gRPC, TLS records, appends) weighs most. Deterministic, as {@link #spans}.
   */
  public static List<SpanData> telemetrygenSpans(int n) {
    Random r = new Random(SEED);
    Resource resource = Resource.getDefault().merge(
        Resource.create(Attributes.builder().put("service.name", "telemetrygen").build()));
    InstrumentationScopeInfo scope = InstrumentationScopeInfo.create("telemetrygen");
    List<SpanData> out = new ArrayList<>(n);
    long base = 1_764_000_000_000_000_000L;
    String traceId = hex(r, 16);
    String clientId = hex(r, 8);
    for (int i = 0; i < n; i++) {
      boolean client = i % 2 == 0;
      if (client) {
        traceId = hex(r, 16);
        clientId = hex(r, 8);
      }
      long start = base + i * 1_000_000L;
      TestSpanData.Builder span = TestSpanData.builder()
          .setSpanContext(SpanContext.create(traceId, client ? clientId : hex(r, 8), TraceFlags.getSampled(),
              TraceState.getDefault()))
          .setResource(resource)
          .setInstrumentationScopeInfo(scope)
          .setName(client ? "lets-go" : "okey-dokey-0")
          .setKind(client ? SpanKind.CLIENT : SpanKind.SERVER)
          .setStartEpochNanos(start)
          .setEndEpochNanos(start + 123_000_000L)
          .setHasEnded(true)
          .setAttributes(Attributes.builder()
              .put("network.peer.address", "1.2.3.4")
              .put("peer.service", client ? "telemetrygen-server" : "telemetrygen-client")
              .build())
          .setTotalAttributeCount(2)
          .setStatus(StatusData.unset());
      if (!client) {
        span.setParentSpanContext(SpanContext.create(traceId, clientId, TraceFlags.getSampled(), TraceState.getDefault()));
      }
      out.add(span.build());
    }
    return out;
  }

  /** The OTLP {@code ExportTraceServiceRequest} bytes of {@link #spans(int) spans(n)}. */
  public static byte[] otlpBytes(int n) {
    return OtlpSpans.toRequest(spans(n)).toByteArray();
  }

  private static String hex(Random r, int bytes) {
    byte[] b = new byte[bytes];
    r.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** A JWT-shaped token: a fixed header, a random-ish payload and a random signature. */
  private static String jwtFragment(Random r) {
    byte[] sig = new byte[12];
    r.nextBytes(sig);
    String payload = "{\"sub\":" + r.nextInt(9_000_000) + "}";
    Base64.Encoder e = Base64.getUrlEncoder().withoutPadding();
    return "eyJhbGciOiJSUzI1NiJ9." + e.encodeToString(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8))
        + "." + e.encodeToString(sig);
  }
}
