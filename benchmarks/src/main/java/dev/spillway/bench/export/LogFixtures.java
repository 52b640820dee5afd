package dev.spillway.bench.export;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.logs.TestLogRecordData;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Realistic application log records of the kind the reference article worries about: a message
 * body naming a user, an e-mail address and a SQL statement with literals, ten attributes (logger,
 * thread, route, user id, tenant, session, exception type on errors), trace and span ids, one
 * resource and one scope: about 590 bytes per record as OTLP protobuf. Deterministic (fixed seed).
 */
public final class LogFixtures {
  private static final long SEED = 0x10657L;
  private static final String[] ROUTES = {
    "/api/v2/orders/{id}", "/api/v2/users/{id}/profile", "/checkout/pay", "/auth/token/refresh"
  };
  private static final String[] USERS = {"alice", "bob", "carol", "dmitri", "eve", "farah", "gus", "hana"};
  private static final String[] LOGGERS = {
    "com.example.shop.checkout.PaymentService", "com.example.shop.accounts.SessionFilter",
    "org.hibernate.SQL", "com.example.shop.cart.CartController"
  };

  private LogFixtures() {}

  /** {@code n} log records, the same ones for the same n. */
  public static List<LogRecordData> logs(int n) {
    Random r = new Random(SEED);
    Resource resource =
        Resource.getDefault().merge(Resource.create(Attributes.builder()
            .put("service.name", "checkout")
            .put("service.version", "4.12.7")
            .put("deployment.environment.name", "production")
            .put("host.name", "ip-10-20-31-44.eu-west-1.compute.internal")
            .put("k8s.pod.name", "checkout-7f9c6d8b5-xk2lp")
            .build()));
    InstrumentationScopeInfo scope =
        InstrumentationScopeInfo.builder("io.opentelemetry.logback-appender-1.0").setVersion("2.21.0-alpha").build();
    long base = 1_764_000_000_000_000_000L;
    List<LogRecordData> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String user = USERS[r.nextInt(USERS.length)] + "." + USERS[r.nextInt(USERS.length)];
      long userId = 100_000 + r.nextInt(9_000_000);
      String email = user + (r.nextInt(90) + 10) + "@mail.example.org";
      boolean error = r.nextInt(20) == 0;
      String route = ROUTES[r.nextInt(ROUTES.length)];
      String body = error
          ? "Payment declined for user " + userId + " <" + email + ">: card ending "
              + (1000 + r.nextInt(9000)) + ", gateway said 'insufficient funds' after " + r.nextInt(3000) + " ms"
          : "Executed SELECT id, email, balance FROM accounts WHERE user_id = " + userId
              + " AND email = '" + email + "' in " + r.nextInt(40) + " ms for route " + route;
      var a = Attributes.builder()
          .put("logger.name", LOGGERS[r.nextInt(LOGGERS.length)])
          .put("thread.name", "http-nio-8080-exec-" + r.nextInt(200))
          .put("code.function.name", "handle")
          .put("http.route", route)
          .put("enduser.id", Long.toString(userId))
          .put("user.email", email)
          .put("app.tenant.id", "tenant-" + r.nextInt(400))
          .put("app.session.id", hex(r, 8))
          .put("client.address", "10." + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256));
      if (error) {
        a.put("exception.type", "com.example.shop.PaymentDeclinedException");
      } else {
        a.put("db.response.returned_rows", (long) r.nextInt(50));
      }
      long time = base + i * 1_000_000L + r.nextInt(1_000_000);
      out.add(TestLogRecordData.builder()
          .setResource(resource)
          .setInstrumentationScopeInfo(scope)
          .setTimestamp(time, TimeUnit.NANOSECONDS)
          .setObservedTimestamp(time + 20_000 + r.nextInt(100_000), TimeUnit.NANOSECONDS)
          .setSpanContext(SpanContext.create(hex(r, 16), hex(r, 8), TraceFlags.getSampled(), TraceState.getDefault()))
          .setSeverity(error ? Severity.ERROR : r.nextInt(10) == 0 ? Severity.WARN : Severity.INFO)
          .setSeverityText(error ? "ERROR" : "INFO")
          .setBody(body)
          .setAttributes(a.build())
          .setTotalAttributeCount(10)
          .build());
    }
    return out;
  }

  private static String hex(Random r, int bytes) {
    byte[] b = new byte[bytes];
    r.nextBytes(b);
    b[0] |= 1; // never the all-zero invalid id
    return HexFormat.of().formatHex(b);
  }
}
