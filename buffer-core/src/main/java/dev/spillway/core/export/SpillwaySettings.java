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
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@code otel.spillway.*} settings of one signal's autoconfigure provider, read from the SDK's
 * configuration: what the three {@code Spillway*ExporterProvider}s share.
 *
 * <p>Every setting {@code otel.spillway.X} may be overridden for one signal by {@code
 * otel.spillway.<signal>.X} ({@code traces}, {@code logs}, {@code metrics}), as the OTLP exporter's
 * {@code otel.exporter.otlp.<signal>.*} settings override {@code otel.exporter.otlp.*}. Each
 * signal's exporter owns its spill directory (one writer per directory): traces use {@code
 * otel.spillway.directory} itself, logs and metrics its subdirectories {@code logs} and {@code
 * metrics}, unless {@code otel.spillway.<signal>.directory} names another.
 *
 * <p>Every error is a {@link ConfigurationException} naming the property that was read.
 */
final class SpillwaySettings {
  static final String PREFIX = "otel.spillway.";
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
  static final String ENCRYPTION_WARMUP = "otel.spillway.encryption.warmup";

  /** An OTLP signal as the SDK's autoconfiguration names it. */
  enum Signal {
    TRACES("traces", false),
    LOGS("logs", true),
    METRICS("metrics", true);

    /** As in {@code otel.<name>.exporter} and {@code otel.exporter.otlp.<name>.protocol}. */
    final String name;
    /** Whether its default spill directory is a subdirectory of {@code otel.spillway.directory}. */
    final boolean subdirectory;

    Signal(String name, boolean subdirectory) {
      this.name = name;
      this.subdirectory = subdirectory;
    }

    /** The environment variable that selects this signal's exporter, for error messages. */
    String exporterVariable() {
      return "OTEL_" + name.toUpperCase(Locale.ROOT) + "_EXPORTER";
    }
  }

  private final ConfigProperties config;
  private final Signal signal;

  SpillwaySettings(ConfigProperties config, Signal signal) {
    this.config = config;
    this.signal = signal;
  }

  /** {@code otel.spillway.<signal>.X} when it is set, else {@code shared} ({@code otel.spillway.X}). */
  String key(String shared) {
    String perSignal = PREFIX + signal.name + "." + shared.substring(PREFIX.length());
    return config.getString(perSignal) != null ? perSignal : shared;
  }

  private String string(String shared) {
    return config.getString(key(shared));
  }

  /** This signal's spill directory. */
  Path directory() {
    String perSignal = PREFIX + signal.name + ".directory";
    String dir = config.getString(perSignal);
    if (dir != null && !dir.isBlank()) {
      return Path.of(dir);
    }
    String shared = config.getString(DIRECTORY);
    if (shared == null || shared.isBlank()) {
      throw new ConfigurationException(
          DIRECTORY + " (or " + perSignal + ") is required by " + signal.exporterVariable()
              + "=spillway (the spill directory)");
    }
    return signal.subdirectory ? Path.of(shared).resolve(signal.name) : Path.of(shared);
  }

  /** The buffer this signal's exporter opens; resources to close at shutdown go to {@code opened}. */
  SpillBufferBuilder buffer(List<AutoCloseable> opened) {
    SpillBufferBuilder b = SpillBuffer.builder();
    Path dir = directory();
    setting(key(DIRECTORY), () -> b.directory(dir));
    Long memory = config.getLong(key(MEMORY_LIMIT_MIB));
    if (memory != null) {
      setting(key(MEMORY_LIMIT_MIB), () -> b.memoryLimitBytes(mib(memory, key(MEMORY_LIMIT_MIB))));
    }
    Long disk = config.getLong(key(DISK_MAX_MIB));
    if (disk != null) {
      setting(key(DISK_MAX_MIB), () -> b.maxDiskBytes(mib(disk, key(DISK_MAX_MIB))));
    }
    String durability = string(DURABILITY);
    if (durability != null) {
      setting(key(DURABILITY), () -> b.durability(Durability.fromConfigName(durability)));
    }
    String fsync = string(FSYNC);
    if (fsync != null) {
      setting(key(FSYNC), () -> b.fsync(FsyncPolicy.fromConfigValue(fsync)));
    }
    String overflow = string(OVERFLOW);
    if (overflow != null) {
      setting(key(OVERFLOW), () -> b.overflowPolicy(OverflowPolicy.fromConfigName(overflow)));
    }
    String queue = string(QUEUE_NAME);
    if (queue != null) {
      setting(key(QUEUE_NAME), () -> b.queueName(queue));
    }
    Duration warmUp = config.getDuration(key(ENCRYPTION_WARMUP));
    if (warmUp != null) {
      setting(key(ENCRYPTION_WARMUP), () -> b.warmUpEncryption(warmUp));
    }
    String provider = config.getString(key(KEYS_PROVIDER), "local");
    switch (provider) {
      case "local" -> localKeys(b);
      case "aws-kms", "aws-kms-rsa" -> kmsKeys(b, provider.equals("aws-kms-rsa"), opened);
      default -> throw new ConfigurationException(
          key(KEYS_PROVIDER) + ": unknown key provider '" + provider
              + "' (expected local, aws-kms or aws-kms-rsa)");
    }
    return b;
  }

  /** Starts a spilling exporter around a delegate, from the buffer and replay settings. */
  @FunctionalInterface
  interface Starter<D, E> {
    E start(D delegate, SpillBufferBuilder buffer, ReplaySettings settings) throws IOException;
  }

  /**
   * This signal's spilling exporter: the buffer and replay settings read here, the delegate from
   * {@code delegate}, started by {@code starter}. On any failure, what was already made (the
   * delegate, a KMS client) is shut down before the {@link ConfigurationException} is thrown.
   */
  <D, E> E exporter(Supplier<D> delegate, Consumer<D> shutdownDelegate, Starter<D, E> starter) {
    List<AutoCloseable> opened = new ArrayList<>();
    D d = null;
    try {
      SpillBufferBuilder buffer = buffer(opened);
      ReplaySettings replay = new ReplaySettings();
      Duration timeout = config.getDuration(key(EXPORT_TIMEOUT));
      if (timeout != null) {
        setting(key(EXPORT_TIMEOUT), () -> replay.exportTimeout(timeout));
      }
      d = delegate.get();
      opened.forEach(replay::closeAfterBuffer);
      try {
        return starter.start(d, buffer, replay);
      } catch (IOException | IllegalStateException e) {
        throw new ConfigurationException(
            key(DIRECTORY) + ": cannot open the spill buffer in " + directory() + ": " + e.getMessage(), e);
      }
    } catch (RuntimeException e) {
      if (d != null) {
        shutdownDelegate.accept(d);
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

  private void localKeys(SpillBufferBuilder b) {
    String dir = string(KEYS_DIR);
    String writer = string(KEYS_WRITER);
    String reader = string(KEYS_READER);
    String writerProperty = key(KEYS_WRITER);
    String readerProperty = key(KEYS_READER);
    if (dir != null) {
      if (writer != null || reader != null) {
        throw new ConfigurationException(
            "set either " + key(KEYS_DIR) + " or " + writerProperty + " and " + readerProperty + ", not both");
      }
      writer = Path.of(dir).resolve(LocalKeys.WRITER_FILE).toString();
      reader = Path.of(dir).resolve(LocalKeys.READER_FILE).toString();
      writerProperty = key(KEYS_DIR);
      readerProperty = key(KEYS_DIR);
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

  private void kmsKeys(SpillBufferBuilder b, boolean rsa, List<AutoCloseable> opened) {
    String arn = string(KMS_KEY_ARN);
    if (arn == null || arn.isBlank()) {
      throw new ConfigurationException(KMS_KEY_ARN + " is required by " + KEYS_PROVIDER + "=aws-kms*");
    }
    AwsKms.Builder kb = AwsKms.builder();
    String region = string(KMS_REGION);
    if (region != null) {
      setting(key(KMS_REGION), () -> kb.region(region));
    }
    String endpoint = string(KMS_ENDPOINT);
    if (endpoint != null) {
      setting(key(KMS_ENDPOINT), () -> kb.endpointOverride(URI.create(endpoint)));
    }
    AwsKms kms;
    try {
      kms = kb.build();
    } catch (RuntimeException e) {
      throw new ConfigurationException(
          key(KMS_REGION) + ": cannot build the KMS client: " + e.getMessage(), e);
    }
    opened.add(kms);
    setting(
        key(KMS_KEY_ARN),
        () -> {
          b.writerKeys(rsa ? kms.rsaIssuer(arn) : kms.issuer(arn));
          b.readerKeys(rsa ? kms.rsaUnwrapper(arn) : kms.unwrapper(arn));
        });
  }

  /**
   * The exporter to wrap, named by {@value #DELEGATE} (default {@code otlp}), built by its own
   * provider of type {@code providerType} from the host's configuration, with the signal's OTLP
   * protocol replaced by {@value #DELEGATE_PROTOCOL} when that is set.
   */
  <P, E> E delegate(
      Class<P> providerType, Function<P, String> nameOf, BiFunction<P, ConfigProperties, E> create) {
    String name = config.getString(key(DELEGATE), "otlp");
    if (name.equals("spillway")) {
      throw new ConfigurationException(key(DELEGATE) + " cannot be spillway itself");
    }
    ConfigProperties delegateConfig = config;
    String protocol = string(DELEGATE_PROTOCOL);
    if (protocol != null) {
      if (!protocol.equals("grpc") && !protocol.equals("http/protobuf")) {
        throw new ConfigurationException(
            key(DELEGATE_PROTOCOL) + ": unsupported protocol '" + protocol
                + "' (expected grpc or http/protobuf)");
      }
      delegateConfig = new OverriddenConfigProperties(
          config, Map.of("otel.exporter.otlp." + signal.name + ".protocol", protocol));
    }
    for (P p : config.getComponentLoader().load(providerType)) {
      if (nameOf.apply(p).equals(name)) {
        return create.apply(p, delegateConfig);
      }
    }
    throw new ConfigurationException(
        key(DELEGATE) + ": no " + signal.name + " exporter named '" + name + "' on the class path"
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
