package dev.spillway.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.spillway.bench.report.Renderer;
import dev.spillway.core.internal.seal.Codec;
import dev.spillway.core.PayloadType;
import dev.spillway.core.internal.seal.Sealer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * One run of everything the targets need, so every ratio compares figures from the same run: the
 * disk's sustained write rate, the compression ratio of the fixture spans, every JMH benchmark
 * (with key-provider call counts), then the rendered {@code RESULTS.md}.
 *
 * <p>{@code --short}: one fork, 2 × 1 s warm-up, 3 × 1 s measurement, 2 GiB disk probe (about 5
 * minutes on 2 cores). {@code --full}: one fork, 3 × 5 s warm-up, 5 × 10 s measurement, 6 GiB
 * disk probe (about 50 minutes).
 */
final class Suite {
  private Suite() {}

  static int run(String[] args) throws Exception {
    boolean full = false;
    boolean kindGiven = false;
    Path out = Path.of("benchmarks/target/bench-results");
    Path scratch = BenchDirs.root();
    Path md = Path.of("benchmarks/RESULTS.md");
    String include = "dev\\.spillway\\.bench\\..*";
    String note = "";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--short" -> { full = false; kindGiven = true; }
        case "--full" -> { full = true; kindGiven = true; }
        case "--out" -> out = Path.of(args[++i]);
        case "--scratch" -> scratch = Path.of(args[++i]);
        case "--md" -> md = Path.of(args[++i]);
        case "--include" -> include = args[++i];
        case "--note" -> note = args[++i];
        default -> {
          System.err.println("usage: suite --short|--full [--out DIR] [--scratch DIR] [--md FILE] [--include REGEX] [--note TEXT]");
          return 2;
        }
      }
    }
    if (!kindGiven) {
      System.err.println("suite: say --short or --full");
      return 2;
    }
    Files.createDirectories(out);
    Files.deleteIfExists(out.resolve(KeyCallLog.FILE));
    System.setProperty("spillway.bench.out", out.toAbsolutePath().toString());
    System.setProperty("spillway.bench.dir", scratch.toAbsolutePath().toString());

    JsonObject ctx = new JsonObject();
    ctx.addProperty("suite", full ? "full" : "short");
    ctx.addProperty("started", Instant.now().toString());
    ctx.addProperty("note", note);
    ctx.add("machine", Machine.describe(scratch));

    long diskBytes = (full ? 6L : 2L) << 30;
    System.out.printf("# disk: writing %d GiB with fdatasync in %s%n", diskBytes >> 30, scratch);
    double rate = DiskRate.measure(scratch, diskBytes);
    System.out.printf("# disk: %.0f MB/s sustained%n", rate / 1e6);
    ctx.addProperty("diskBytesWritten", diskBytes);
    ctx.addProperty("diskBytesPerSecond", rate);
    ctx.add("compression", compression(scratch));

    ChainedOptionsBuilder o = new OptionsBuilder()
        .include(include)
        .forks(1)
        .threads(1)
        .mode(org.openjdk.jmh.annotations.Mode.AverageTime)
        .timeUnit(TimeUnit.NANOSECONDS)
        .shouldFailOnError(true)
        .jvmArgsAppend(BenchFlags.forkJvmArgs().toArray(String[]::new))
        .resultFormat(ResultFormatType.JSON)
        .result(out.resolve("jmh.json").toString());
    if (full) {
      o.warmupIterations(3).warmupTime(TimeValue.seconds(5)).measurementIterations(5).measurementTime(TimeValue.seconds(10));
    } else {
      o.warmupIterations(2).warmupTime(TimeValue.seconds(1)).measurementIterations(3).measurementTime(TimeValue.seconds(1));
    }
    new Runner(o.build()).run();
    ctx.addProperty("finished", Instant.now().toString());
    Files.writeString(out.resolve("context.json"), new GsonBuilder().setPrettyPrinting().create().toJson(ctx),
        StandardCharsets.UTF_8);
    return Renderer.render(out, md);
  }

  /** OTLP bytes per batch and the sealed record sizes with each codec, per batch size. */
  static JsonArray compression(Path scratch) throws IOException {
    JsonArray arr = new JsonArray();
    Path dir = BenchDirs.create("ratio");
    try {
      BenchKeys keys = BenchKeys.create(dir);
      for (String b : SpanFixtures.BATCH_SIZES) {
        int n = Integer.parseInt(b);
        byte[] payload = SpanFixtures.otlpBytes(n);
        JsonObject o = new JsonObject();
        o.addProperty("batch", n);
        o.addProperty("otlpBytes", payload.length);
        o.addProperty("bytesPerSpan", payload.length / (double) n);
        for (Codec c : Codec.values()) {
          try (Sealer s = new Sealer(keys.issuer(), "bench", KeyCallLog.POLICY, c, Clock.systemUTC())) {
            o.addProperty("sealed" + c.name(), s.seal(PayloadType.OTLP_TRACES, payload).bytes().length);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
        o.addProperty("lz4Ratio", payload.length / o.get("sealedLZ4").getAsDouble());
        o.addProperty("zstdRatio", payload.length / o.get("sealedZSTD").getAsDouble());
        System.out.printf("# spans: batch %d: %d OTLP bytes (%.0f B/span), LZ4 sealed %d bytes (%.2fx, %.0f B/span),"
                + " zstd sealed %d bytes (%.2fx, %.0f B/span)%n", n,
            payload.length, payload.length / (double) n, o.get("sealedLZ4").getAsInt(), o.get("lz4Ratio").getAsDouble(),
            o.get("sealedLZ4").getAsInt() / (double) n, o.get("sealedZSTD").getAsInt(), o.get("zstdRatio").getAsDouble(),
            o.get("sealedZSTD").getAsInt() / (double) n);
        arr.add(o);
      }
    } finally {
      BenchDirs.delete(dir);
    }
    return arr;
  }

  /** nproc, memory, CPU model, the scratch directory's file system. */
  static final class Machine {
    private Machine() {}

    static JsonObject describe(Path scratch) throws IOException {
      JsonObject m = new JsonObject();
      m.addProperty("nproc", Runtime.getRuntime().availableProcessors());
      m.addProperty("memTotal", grep(Path.of("/proc/meminfo"), "MemTotal:"));
      m.addProperty("cpuModel", grep(Path.of("/proc/cpuinfo"), "model name"));
      Files.createDirectories(scratch);
      FileStore fs = Files.getFileStore(scratch);
      m.addProperty("disk", fs.name() + " (" + fs.type() + ", " + (fs.getTotalSpace() >> 30) + " GiB) at " + scratch);
      m.addProperty("java", System.getProperty("java.vm.name") + " " + Runtime.version());
      m.addProperty("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
      return m;
    }

    private static String grep(Path file, String prefix) {
      try {
        for (String line : Files.readAllLines(file)) {
          if (line.startsWith(prefix)) {
            return line.substring(line.indexOf(':') + 1).trim();
          }
        }
      } catch (IOException e) {
        return "unknown";
      }
      return "unknown";
    }
  }
}
