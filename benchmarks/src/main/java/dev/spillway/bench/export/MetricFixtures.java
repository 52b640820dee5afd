package dev.spillway.bench.export;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.GaugeData;
import io.opentelemetry.sdk.metrics.data.HistogramData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.metrics.TestMetricData;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Realistic service metrics: HTTP server instruments with route, method, status and user-agent
 * class attributes, eight series per metric. Of every ten metrics: four cumulative long counters,
 * two double gauges, three explicit-bucket histograms (the SDK's 15 default bounds) and one
 * base-2 exponential histogram (about 40 buckets). Deterministic (fixed seed).
 */
public final class MetricFixtures {
  private static final long SEED = 0x3e7c5L;
  private static final int SERIES_PER_METRIC = 8;
  private static final List<Double> DEFAULT_BOUNDS =
      List.of(0d, 5d, 10d, 25d, 50d, 75d, 100d, 250d, 500d, 750d, 1000d, 2500d, 5000d, 7500d, 10000d);
  private static final String[] ROUTES = {
    "/api/v2/orders/{id}", "/api/v2/users/{id}/profile", "/checkout/pay", "/api/v2/cart"
  };

  private MetricFixtures() {}

  /** Metrics holding {@code points} data points in all, the same ones for the same number. */
  public static List<MetricData> metrics(int points) {
    Random r = new Random(SEED);
    Resource resource =
        Resource.getDefault().merge(Resource.create(Attributes.builder()
            .put("service.name", "checkout")
            .put("service.version", "4.12.7")
            .put("host.name", "ip-10-20-31-44.eu-west-1.compute.internal")
            .build()));
    InstrumentationScopeInfo scope =
        InstrumentationScopeInfo.builder("io.opentelemetry.spring-webmvc-6.0").setVersion("2.21.0").build();
    long start = 1_764_000_000_000_000_000L;
    long now = start + 60_000_000_000L;
    List<MetricData> out = new ArrayList<>();
    for (int m = 0, left = points; left > 0; m++) {
      int n = Math.min(SERIES_PER_METRIC, left);
      left -= n;
      TestMetricData.Builder b = TestMetricData.builder()
          .setResource(resource)
          .setInstrumentationScopeInfo(scope)
          .setName("http.server.metric." + m)
          .setDescription("Duration or count of HTTP server requests")
          .setUnit(m % 10 < 4 ? "{request}" : "ms");
      switch (m % 10) {
        case 0, 1, 2, 3 -> {
          List<LongPointData> p = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            p.add(LongPointData.create(start, now, series(r, i), r.nextInt(1_000_000)));
          }
          b.setLongSumData(SumData.createLongSumData(true, AggregationTemporality.CUMULATIVE, p));
        }
        case 4, 5 -> {
          List<DoublePointData> p = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            p.add(DoublePointData.create(start, now, series(r, i), r.nextDouble() * 100, List.of()));
          }
          b.setDoubleGaugeData(GaugeData.createDoubleGaugeData(p));
        }
        case 6, 7, 8 -> {
          List<HistogramPointData> p = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            List<Long> counts = new ArrayList<>();
            long count = 0;
            for (int c = 0; c <= DEFAULT_BOUNDS.size(); c++) {
              long v = r.nextInt(4) == 0 ? 0 : r.nextInt(5000);
              counts.add(v);
              count += v;
            }
            p.add(HistogramPointData.create(start, now, series(r, i), count * 37.5, true, 0.4, true, 9800.0,
                DEFAULT_BOUNDS, counts));
          }
          b.setHistogramData(HistogramData.create(AggregationTemporality.CUMULATIVE, p));
        }
        default -> {
          List<ExponentialHistogramPointData> p = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            List<Long> counts = new ArrayList<>();
            for (int c = 0; c < 40; c++) {
              counts.add((long) r.nextInt(300));
            }
            ExponentialHistogramBuckets positive = ExponentialHistogramBuckets.create(3, 20 + r.nextInt(10), counts);
            p.add(ExponentialHistogramPointData.create(3, 1.0e6 * r.nextDouble(), r.nextInt(20), true, 0.2,
                true, 7200.0, positive, ExponentialHistogramBuckets.create(3, 0, List.of()), start, now,
                series(r, i), List.of()));
          }
          b.setExponentialHistogramData(ExponentialHistogramData.create(AggregationTemporality.CUMULATIVE, p));
        }
      }
      out.add(b.build());
    }
    return out;
  }

  private static Attributes series(Random r, int i) {
    return Attributes.builder()
        .put("http.route", ROUTES[i % ROUTES.length])
        .put("http.request.method", i % 2 == 0 ? "GET" : "POST")
        .put("http.response.status_code", r.nextInt(10) == 0 ? 500L : 200L)
        .put("network.protocol.version", "1.1")
        .put("server.address", "checkout.shop.svc")
        .build();
  }
}
