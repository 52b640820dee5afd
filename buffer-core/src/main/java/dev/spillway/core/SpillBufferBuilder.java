package dev.spillway.core;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.internal.seal.Codec;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Builds a {@link SpillBuffer}, or one of its halves. Setters validate at once and throw {@link
 * IllegalArgumentException} naming the setting.
 */
public final class SpillBufferBuilder {
  /** Default memory limit: {@value} bytes (64 MiB). */
  public static final long DEFAULT_MEMORY_LIMIT_BYTES = 64L << 20;
  /** Default disk budget: {@value} bytes (1 GiB). */
  public static final long DEFAULT_MAX_DISK_BYTES = 1L << 30;
  /** Default queue name, bound into every record and key: {@value}. */
  public static final String DEFAULT_QUEUE_NAME = "spillway";

  String queueName = DEFAULT_QUEUE_NAME;
  DeploymentId deployment = DeploymentId.UNNAMED;
  Path directory;
  long memoryLimitBytes = DEFAULT_MEMORY_LIMIT_BYTES;
  long spikeLimitBytes = -1; // derived: a fifth of the limit
  int maxBatchBytes = SpillBuffer.DEFAULT_MAX_BATCH_BYTES;
  long maxDiskBytes = DEFAULT_MAX_DISK_BYTES;
  long segmentBytes = -1; // derived from the disk budget
  Duration segmentMaxAge = Duration.ofMinutes(10);
  Duration maxRecordAge = Duration.ofDays(7);
  Durability durability = Durability.MEMORY_FIRST;
  FsyncPolicy fsync = FsyncPolicy.interval(Duration.ofSeconds(1));
  OverflowPolicy overflow = OverflowPolicy.REFUSE;
  Codec codec = Codec.LZ4;
  RotationPolicy rotation = RotationPolicy.defaults();
  DataKeyIssuer issuer;
  DataKeyUnwrapper unwrapper;
  boolean sharedGroup;
  Clock clock = Clock.systemUTC();
  /**
   * The JVM option that sets {@link #startWithoutReplayState} for a buffer whose builder the
   * operator cannot reach (the daemon): {@code -Dspillway.startWithoutReplayState=true}, once.
   */
  public static final String START_WITHOUT_REPLAY_STATE_PROPERTY = "spillway.startWithoutReplayState";

  boolean startWithoutReplayState = Boolean.getBoolean(START_WITHOUT_REPLAY_STATE_PROPERTY);
  BufferObserver observer = BufferObserver.NOOP;
  long minFreeDiskBytes = 64L << 20;
  /** Tests turn the free-space guard off to reach Chronicle's own full-disk fault (SIGBUS). */
  boolean freeSpaceGuard = true;
  Duration encryptionWarmUp = Duration.ZERO;

  SpillBufferBuilder() {}

  /** Bound into every sealed record and key context; records never open under another name. */
  public SpillBufferBuilder queueName(String name) {
    Objects.requireNonNull(name, "queueName");
    if (name.isEmpty() || name.length() > 128) {
      throw new IllegalArgumentException("queueName must be 1..128 characters");
    }
    this.queueName = name;
    return this;
  }

  /**
   * The deployment this buffer belongs to, bound into every record, key context and key-record
   * signature: a segment copied from another deployment that shares the key pair does not open
   * here (docs/THREAT-MODEL.md). Writer and reader must be given the same one. Default: unnamed.
   */
  public SpillBufferBuilder deploymentId(DeploymentId deployment) {
    this.deployment = Objects.requireNonNull(deployment, "deployment");
    return this;
  }

  /** The spill directory. Created 0700 (0770 with {@link #sharedGroup}); required. */
  public SpillBufferBuilder directory(Path directory) {
    this.directory = Objects.requireNonNull(directory, "directory");
    return this;
  }

  /**
   * Payload bytes the memory tier may hold. Default {@value #DEFAULT_MEMORY_LIMIT_BYTES}; 0 sends
   * every batch to disk.
   */
  public SpillBufferBuilder memoryLimitBytes(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("memoryLimitBytes must be >= 0, got " + bytes);
    }
    this.memoryLimitBytes = bytes;
    return this;
  }

  /**
   * Headroom below the memory limit kept free for batches being delivered and released back, like
   * the collector's spike_limit_mib. The memory tier takes new batches only up to limit - spike.
   * Default: a fifth of the limit.
   */
  public SpillBufferBuilder spikeLimitBytes(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("spikeLimitBytes must be >= 0, got " + bytes);
    }
    this.spikeLimitBytes = bytes;
    return this;
  }

  /**
   * The largest batch {@link SpillBuffer#offer} takes, in bytes; a larger one is refused with
   * {@link IllegalArgumentException}. Default {@link SpillBuffer#DEFAULT_MAX_BATCH_BYTES} (just under
   * 8 MiB), at most {@link SpillBuffer#MAX_BATCH_BYTES} (just under 16 MiB). It sizes the spill's
   * memory mapping: the spill keeps up to two mapping chunks of 4&times; this (rounded up to 16, 32 or
   * 64 MiB) resident, so a buffer that never takes large batches should say so. A spill written with
   * a larger setting still reads back whole.
   */
  public SpillBufferBuilder maxBatchBytes(int bytes) {
    if (bytes < 1 || bytes > SpillBuffer.MAX_BATCH_BYTES) {
      throw new IllegalArgumentException(
          "maxBatchBytes must be between 1 and " + SpillBuffer.MAX_BATCH_BYTES + ", got " + bytes);
    }
    this.maxBatchBytes = bytes;
    return this;
  }

  /** Disk budget, counted in allocated blocks. Default {@value #DEFAULT_MAX_DISK_BYTES}. */
  public SpillBufferBuilder maxDiskBytes(long bytes) {
    if (bytes < (1L << 20)) {
      throw new IllegalArgumentException("maxDiskBytes must be at least 1 MiB, got " + bytes);
    }
    this.maxDiskBytes = bytes;
    return this;
  }

  /**
   * A new segment (file) starts after this many bytes. Default: what leaves a segment inside one
   * mapping chunk with a largest batch after it (chunk &minus; {@link #maxBatchBytes} &minus; 1 MiB:
   * 27 MiB for the daemon's default 4 MiB requests, ~23 MiB for the library's default, ~47 MiB at
   * the largest), at most a budget's eighth and at least 256 KiB. A larger segment spans two chunks,
   * and its writer then keeps both resident.
   */
  public SpillBufferBuilder segmentBytes(long bytes) {
    if (bytes < (64L << 10)) {
      throw new IllegalArgumentException("segmentBytes must be at least 64 KiB, got " + bytes);
    }
    this.segmentBytes = bytes;
    return this;
  }

  /** A new segment starts after this long, so drained data is deleted promptly. Default 10m. */
  public SpillBufferBuilder segmentMaxAge(Duration age) {
    this.segmentMaxAge = positive(age, "segmentMaxAge");
    return this;
  }

  /** Spilled batches older than this are dropped (and counted). Default 7 days. */
  public SpillBufferBuilder maxRecordAge(Duration age) {
    this.maxRecordAge = positive(age, "maxRecordAge");
    return this;
  }

  public SpillBufferBuilder durability(Durability durability) {
    this.durability = Objects.requireNonNull(durability, "durability");
    return this;
  }

  /** Default: every second. */
  public SpillBufferBuilder fsync(FsyncPolicy fsync) {
    this.fsync = Objects.requireNonNull(fsync, "fsync");
    return this;
  }

  public SpillBufferBuilder overflowPolicy(OverflowPolicy policy) {
    this.overflow = Objects.requireNonNull(policy, "overflowPolicy");
    return this;
  }

  /** Compression before sealing. Default lz4. */
  public SpillBufferBuilder compression(Compression compression) {
    this.codec = Codec.of(Objects.requireNonNull(compression, "compression"));
    return this;
  }

  public SpillBufferBuilder rotationPolicy(RotationPolicy policy) {
    this.rotation = Objects.requireNonNull(policy, "rotationPolicy");
    return this;
  }

  /** The write-side key capability. Required to offer. */
  public SpillBufferBuilder writerKeys(DataKeyIssuer issuer) {
    this.issuer = Objects.requireNonNull(issuer, "writerKeys");
    return this;
  }

  /** The read-side key capability. Required to poll. */
  public SpillBufferBuilder readerKeys(DataKeyUnwrapper unwrapper) {
    this.unwrapper = Objects.requireNonNull(unwrapper, "readerKeys");
    return this;
  }

  /**
   * For ingest and drain running as two OS users: the directory is created 2770 (setgid, group
   * shared) instead of 0700. Run both with umask 007 (docs/SPILL.md).
   */
  public SpillBufferBuilder sharedGroup(boolean shared) {
    this.sharedGroup = shared;
    return this;
  }

  /** Refuse to append when the device has less free space than this. Default 64 MiB. */
  public SpillBufferBuilder minFreeDiskBytes(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("minFreeDiskBytes must be >= 0, got " + bytes);
    }
    this.minFreeDiskBytes = bytes;
    return this;
  }

  /**
   * Recovery only, off by default: lets a drain start whose replay checkpoint (the file {@code
   * drain-checkpoint} in the spill directory: the last committed sequence of every writer stream)
   * is missing although records were committed, or unreadable (it is then set aside). It starts
   * with empty watermarks, so records drained before and copied back into the spill are not
   * recognised as replays. Without it such a drain refuses to start, naming the file. The JVM
   * option {@value #START_WITHOUT_REPLAY_STATE_PROPERTY}{@code =true} sets the default.
   */
  public SpillBufferBuilder startWithoutReplayState(boolean startWithout) {
    this.startWithoutReplayState = startWithout;
    return this;
  }

  /**
   * Before the buffer opens, runs the JDK's AES-GCM until it is compiled, for at most {@code
   * budget}; {@link Duration#ZERO}, the default, skips it. HotSpot uses its AES and GHASH
   * intrinsics only once C2 has compiled their callers, after thousands of calls: until then a
   * process seals and opens records at 15–46 MB/s instead of 1.2–2.4 GB/s (measured on the
   * 2-core bench machine), so a gateway that starts with a backlog, or spills in its first
   * seconds, spends them in GHASH's Java loop. The warm-up uses a throwaway key and zero bytes;
   * it cost 1.2–1.3 s of one core there and is logged. The daemon runs it with 5 s. {@code
   * -Dspillway.aesgcm.warmup=false} skips it whatever is set here.
   */
  public SpillBufferBuilder warmUpEncryption(Duration budget) {
    Objects.requireNonNull(budget, "warmUpEncryption");
    if (budget.isNegative()) {
      throw new IllegalArgumentException("warmUpEncryption must not be negative, got " + budget);
    }
    this.encryptionWarmUp = budget;
    return this;
  }

  public SpillBufferBuilder clock(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    return this;
  }

  public SpillBufferBuilder observer(BufferObserver observer) {
    this.observer = Objects.requireNonNull(observer, "observer");
    return this;
  }

  /** A buffer with both halves: needs writer and reader keys. */
  public SpillBuffer build() throws java.io.IOException {
    require(issuer != null, "writerKeys");
    require(unwrapper != null, "readerKeys");
    return SpillBuffer.open(this);
  }

  /** The ingest half alone: every batch is sealed to disk; it cannot read the spill. */
  public SpillWriter buildWriter() throws java.io.IOException {
    require(issuer != null, "writerKeys");
    return SpillBuffer.openWriter(this);
  }

  /** The drain half alone: reads what another process spilled. */
  public SpillReader buildReader() throws java.io.IOException {
    require(unwrapper != null, "readerKeys");
    return SpillBuffer.openReader(this);
  }

  /**
   * A private copy of these settings for one buffer: the builder stays mutable for its caller, but
   * a setter called after {@code build()} never reaches a running buffer.
   */
  SpillBufferBuilder snapshot() {
    SpillBufferBuilder c = new SpillBufferBuilder();
    c.queueName = queueName;
    c.deployment = deployment;
    c.directory = directory;
    c.memoryLimitBytes = memoryLimitBytes;
    c.spikeLimitBytes = spikeLimitBytes;
    c.maxBatchBytes = maxBatchBytes;
    c.maxDiskBytes = maxDiskBytes;
    c.segmentBytes = segmentBytes;
    c.segmentMaxAge = segmentMaxAge;
    c.maxRecordAge = maxRecordAge;
    c.durability = durability;
    c.fsync = fsync;
    c.overflow = overflow;
    c.codec = codec;
    c.rotation = rotation;
    c.issuer = issuer;
    c.unwrapper = unwrapper;
    c.sharedGroup = sharedGroup;
    c.clock = clock;
    c.startWithoutReplayState = startWithoutReplayState;
    c.observer = observer;
    c.minFreeDiskBytes = minFreeDiskBytes;
    c.freeSpaceGuard = freeSpaceGuard;
    c.encryptionWarmUp = encryptionWarmUp;
    return c;
  }

  long effectiveSpikeLimit() {
    return spikeLimitBytes >= 0 ? Math.min(spikeLimitBytes, memoryLimitBytes) : memoryLimitBytes / 5;
  }

  long effectiveSegmentBytes() {
    if (segmentBytes > 0) {
      return segmentBytes;
    }
    // A writer whose segment spans two chunks was measured keeping both resident (docs/SPILL.md).
    long withinOneChunk = BufferEngine.chunkFor(maxBatchBytes) - maxBatchBytes - (1L << 20);
    return Math.max(256L << 10, Math.min(withinOneChunk, maxDiskBytes / 8));
  }

  private void require(boolean ok, String setting) {
    if (directory == null) {
      throw new IllegalStateException("directory is required");
    }
    if (!ok) {
      throw new IllegalStateException(setting + " is required for this half of the buffer");
    }
  }

  private static Duration positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
    return d;
  }
}
