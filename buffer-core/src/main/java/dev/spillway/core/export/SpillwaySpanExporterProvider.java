package dev.spillway.core.export;

import dev.spillway.core.Durability;
import dev.spillway.core.FsyncPolicy;
import dev.spillway.core.OverflowPolicy;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.core.keys.aws.AwsKms;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code spillway} span exporter for SDK autoconfiguration: {@code OTEL_TRACES_EXPORTER=spillway}
 * wraps the exporter named by {@value #DELEGATE} (default {@code otlp}, built by its own provider
 * from the standard {@code otel.exporter.otlp.*} settings) in a {@link SpillingSpanExporter}.
 *
 * <p>Settings (system properties, or environment variables in upper case with {@code _}):
 *
 * <table>
 *   <caption>otel.spillway.* properties</caption>
 *   <tr><th>property</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@value #DIRECTORY}</td><td>required</td><td>spill directory (created 0700)</td></tr>
 *   <tr><td>{@value #MEMORY_LIMIT_MIB}</td><td>64</td><td>memory tier, MiB; 0 spills every failed batch</td></tr>
 *   <tr><td>{@value #DISK_MAX_MIB}</td><td>1024</td><td>disk budget, MiB</td></tr>
 *   <tr><td>{@value #DURABILITY}</td><td>memory-first</td><td>memory-first or durable</td></tr>
 *   <tr><td>{@value #FSYNC}</td><td>1s</td><td>none, every-batch, or an interval</td></tr>
 *   <tr><td>{@value #OVERFLOW}</td><td>refuse</td><td>refuse or drop-oldest when the budget is spent</td></tr>
 *   <tr><td>{@value #QUEUE_NAME}</td><td>spillway</td><td>bound into every record</td></tr>
 *   <tr><td>{@value #KEYS_PROVIDER}</td><td>local</td><td>local, aws-kms or aws-kms-rsa</td></tr>
 *   <tr><td>{@value #KEYS_DIR}</td><td></td><td>local: directory holding writer.json and reader.json</td></tr>
 *   <tr><td>{@value #KEYS_WRITER} / {@value #KEYS_READER}</td><td></td><td>local: the two keyset files, instead of a directory</td></tr>
 *   <tr><td>{@value #KMS_KEY_ARN}</td><td></td><td>aws-kms*: the key ARN</td></tr>
 *   <tr><td>{@value #KMS_REGION} / {@value #KMS_ENDPOINT}</td><td>SDK chain / region's</td><td>aws-kms*: region, endpoint override</td></tr>
 *   <tr><td>{@value #DELEGATE}</td><td>otlp</td><td>the span exporter to wrap</td></tr>
 *   <tr><td>{@value #DELEGATE_PROTOCOL}</td><td>otel.exporter.otlp[.traces].protocol</td><td>grpc or http/protobuf, for the otlp delegate</td></tr>
 *   <tr><td>{@value #EXPORT_TIMEOUT}</td><td>10s</td><td>time the delegate gets before a batch spills</td></tr>
 * </table>
 *
 * <p>A missing or invalid setting fails SDK startup with a {@link ConfigurationException} naming
 * the property.
 */
public final class SpillwaySpanExporterProvider implements ConfigurableSpanExporterProvider {
  static final String DIRECTORY = "otel.spillway.directory";
  static final String MEMORY_LIMIT_MIB = "otel.spillway.memory.limit.mib";
  static final String DISK_MAX_MIB = "otel.spillway.disk.max.mib";
  static final String DURABILITY = "otel.spillway.durability";
  static final String FSYNC = "otel.spillway.fsync";
  static final String OVERFLOW = "otel.spillway.overflow";
  static final String QUEUE_NAME = "otel.spillway.queue.name";
  static final String KEYS_PROVIDER = "otel.spillway.keys.provider";
  static final String KEYS_DIR = "otel.spillway.keys.dir";
  static final String KEYS_WRITER = "otel.spillway.keys.writer";
  static final String KEYS_READER = "otel.spillway.keys.reader";
  static final String KMS_KEY_ARN = "otel.spillway.kms.key.arn";
  static final String KMS_REGION = "otel.spillway.kms.region";
  static final String KMS_ENDPOINT = "otel.spillway.kms.endpoint";
  static final String DELEGATE = "otel.spillway.delegate";
  static final String DELEGATE_PROTOCOL = "otel.spillway.delegate.protocol";
  static final String EXPORT_TIMEOUT = "otel.spillway.export.timeout";
  /** The standard per-signal OTLP protocol property, which the otlp provider reads first. */
  static final String OTLP_TRACES_PROTOCOL = "otel.exporter.otlp.traces.protocol";

  /** For {@link java.util.ServiceLoader}. */
  public SpillwaySpanExporterProvider() {}

  @Override
  public String getName() {
    return "spillway";
  }

  @Override
  public SpanExporter createExporter(ConfigProperties config) {
    List<AutoCloseable> opened = new ArrayList<>();
    SpanExporter delegate = null;
    try {
      SpillBufferBuilder buffer = bufferFrom(config, opened);
      delegate = delegateFrom(config);
      SpillingSpanExporterBuilder b = SpillingSpanExporter.builder(delegate, buffer);
      Duration timeout = config.getDuration(EXPORT_TIMEOUT);
      if (timeout != null) {
        setting(EXPORT_TIMEOUT, () -> b.setExportTimeout(timeout));
      }
      opened.forEach(b::closeAfterBuffer);
      try {
        return b.build();
      } catch (IOException | IllegalStateException e) {
        throw new ConfigurationException(
            DIRECTORY + ": cannot open the spill buffer in " + config.getString(DIRECTORY) + ": "
                + e.getMessage(),
            e);
      }
    } catch (RuntimeException e) {
      if (delegate != null) {
        delegate.shutdown();
      }
      for (AutoCloseable c : opened) {
        try {
          c.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  private static SpillBufferBuilder bufferFrom(ConfigProperties config, List<AutoCloseable> opened) {
    String dir = config.getString(DIRECTORY);
    if (dir == null || dir.isBlank()) {
      throw new ConfigurationException(
          DIRECTORY + " is required by OTEL_TRACES_EXPORTER=spillway (the spill directory)");
    }
    SpillBufferBuilder b = SpillBuffer.builder();
    setting(DIRECTORY, () -> b.directory(Path.of(dir)));
    Long memory = config.getLong(MEMORY_LIMIT_MIB);
    if (memory != null) {
      setting(MEMORY_LIMIT_MIB, () -> b.memoryLimitBytes(mib(memory, MEMORY_LIMIT_MIB)));
    }
    Long disk = config.getLong(DISK_MAX_MIB);
    if (disk != null) {
      setting(DISK_MAX_MIB, () -> b.maxDiskBytes(mib(disk, DISK_MAX_MIB)));
    }
    String durability = config.getString(DURABILITY);
    if (durability != null) {
      setting(DURABILITY, () -> b.durability(Durability.fromConfigName(durability)));
    }
    String fsync = config.getString(FSYNC);
    if (fsync != null) {
      setting(FSYNC, () -> b.fsync(FsyncPolicy.fromConfigValue(fsync)));
    }
    String overflow = config.getString(OVERFLOW);
    if (overflow != null) {
      setting(OVERFLOW, () -> b.overflowPolicy(OverflowPolicy.fromConfigName(overflow)));
    }
    String queue = config.getString(QUEUE_NAME);
    if (queue != null) {
      setting(QUEUE_NAME, () -> b.queueName(queue));
    }
    String provider = config.getString(KEYS_PROVIDER, "local");
    switch (provider) {
      case "local" -> localKeys(config, b);
      case "aws-kms", "aws-kms-rsa" -> kmsKeys(config, b, provider.equals("aws-kms-rsa"), opened);
      default -> throw new ConfigurationException(
          KEYS_PROVIDER + ": unknown key provider '" + provider
              + "' (expected local, aws-kms or aws-kms-rsa)");
    }
    return b;
  }

  private static void localKeys(ConfigProperties config, SpillBufferBuilder b) {
    String dir = config.getString(KEYS_DIR);
    String writer = config.getString(KEYS_WRITER);
    String reader = config.getString(KEYS_READER);
    String writerProperty = KEYS_WRITER;
    String readerProperty = KEYS_READER;
    if (dir != null) {
      if (writer != null || reader != null) {
        throw new ConfigurationException(
            "set either " + KEYS_DIR + " or " + KEYS_WRITER + " and " + KEYS_READER + ", not both");
      }
      writer = Path.of(dir).resolve(LocalKeys.WRITER_FILE).toString();
      reader = Path.of(dir).resolve(LocalKeys.READER_FILE).toString();
      writerProperty = KEYS_DIR;
      readerProperty = KEYS_DIR;
    } else if (writer == null || reader == null) {
      throw new ConfigurationException(
          "local keys need " + KEYS_DIR + " (a directory holding " + LocalKeys.WRITER_FILE + " and "
              + LocalKeys.READER_FILE + ", made by LocalKeys.init), or both "
              + KEYS_WRITER + " and " + KEYS_READER);
    }
    try {
      b.writerKeys(LocalKeys.issuer(Path.of(writer)));
    } catch (IOException e) {
      throw new ConfigurationException(writerProperty + ": " + e.getMessage(), e);
    }
    try {
      b.readerKeys(LocalKeys.unwrapper(Path.of(reader)));
    } catch (IOException e) {
      throw new ConfigurationException(readerProperty + ": " + e.getMessage(), e);
    }
  }

  private static void kmsKeys(
      ConfigProperties config, SpillBufferBuilder b, boolean rsa, List<AutoCloseable> opened) {
    String arn = config.getString(KMS_KEY_ARN);
    if (arn == null || arn.isBlank()) {
      throw new ConfigurationException(KMS_KEY_ARN + " is required by " + KEYS_PROVIDER + "=aws-kms*");
    }
    AwsKms.Builder kb = AwsKms.builder();
    String region = config.getString(KMS_REGION);
    if (region != null) {
      setting(KMS_REGION, () -> kb.region(region));
    }
    String endpoint = config.getString(KMS_ENDPOINT);
    if (endpoint != null) {
      setting(KMS_ENDPOINT, () -> kb.endpointOverride(URI.create(endpoint)));
    }
    AwsKms kms;
    try {
      kms = kb.build();
    } catch (RuntimeException e) {
      throw new ConfigurationException(
          KMS_REGION + ": cannot build the KMS client: " + e.getMessage(), e);
    }
    opened.add(kms);
    setting(
        KMS_KEY_ARN,
        () -> {
          b.writerKeys(rsa ? kms.rsaIssuer(arn) : kms.issuer(arn));
          b.readerKeys(rsa ? kms.rsaUnwrapper(arn) : kms.unwrapper(arn));
        });
  }

  private static SpanExporter delegateFrom(ConfigProperties config) {
    String name = config.getString(DELEGATE, "otlp");
    if (name.equals("spillway")) {
      throw new ConfigurationException(DELEGATE + " cannot be spillway itself");
    }
    ConfigProperties delegateConfig = config;
    String protocol = config.getString(DELEGATE_PROTOCOL);
    if (protocol != null) {
      if (!protocol.equals("grpc") && !protocol.equals("http/protobuf")) {
        throw new ConfigurationException(
            DELEGATE_PROTOCOL + ": unsupported protocol '" + protocol
                + "' (expected grpc or http/protobuf)");
      }
      delegateConfig = new OverriddenConfigProperties(config, Map.of(OTLP_TRACES_PROTOCOL, protocol));
    }
    for (ConfigurableSpanExporterProvider p :
        config.getComponentLoader().load(ConfigurableSpanExporterProvider.class)) {
      if (p.getName().equals(name)) {
        return p.createExporter(delegateConfig);
      }
    }
    throw new ConfigurationException(
        DELEGATE + ": no span exporter named '" + name + "' on the class path"
            + (name.equals("otlp") ? " (add io.opentelemetry:opentelemetry-exporter-otlp)" : ""));
  }

  private static long mib(long value, String property) {
    if (value < 0 || value > (Long.MAX_VALUE >> 20)) {
      throw new ConfigurationException(property + " must be between 0 and 2^43 MiB, got " + value);
    }
    return value << 20;
  }

  /** Runs a builder setter, turning its validation error into one naming the property. */
  private static void setting(String property, Runnable set) {
    try {
      set.run();
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException(property + ": " + e.getMessage(), e);
    }
  }
}
