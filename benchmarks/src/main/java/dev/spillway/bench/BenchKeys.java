package dev.spillway.bench;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.IssuedDataKey;
import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.KeyUnavailableException;
import dev.spillway.core.keys.LocalKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import dev.spillway.core.SpillBuffer;
import dev.spillway.core.SpillBufferBuilder;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/** A local key pair for one benchmark trial, and an issuer that counts key-provider calls. */
public final class BenchKeys {
  private final CountingIssuer issuer;
  private final DataKeyUnwrapper unwrapper;

  private BenchKeys(CountingIssuer issuer, DataKeyUnwrapper unwrapper) {
    this.issuer = issuer;
    this.unwrapper = unwrapper;
  }

  /** Creates a fresh local (HPKE) key pair in {@code dir}. */
  public static BenchKeys create(Path dir) {
    try {
      LocalKeys.init(dir);
      return new BenchKeys(
          new CountingIssuer(LocalKeys.issuer(dir.resolve(LocalKeys.WRITER_FILE))),
          LocalKeys.unwrapper(dir.resolve(LocalKeys.READER_FILE)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public CountingIssuer issuer() {
    return issuer;
  }

  public DataKeyUnwrapper unwrapper() {
    return unwrapper;
  }
  /**
   * A {@code SpillBuffer} builder with these keys that sends every batch to disk (memory limit 0),
   * rotating data keys by {@link KeyCallLog#POLICY}; callers add the disk budget and codec.
   */
  public SpillBufferBuilder spillEverything(Path directory) {
    return SpillBuffer.builder()
        .directory(directory)
        .memoryLimitBytes(0)
        .rotationPolicy(KeyCallLog.POLICY)
        .writerKeys(issuer())
        .readerKeys(unwrapper());
  }


  /** Counts calls to the key provider: the target is one per data-key epoch. */
  public static final class CountingIssuer implements DataKeyIssuer {
    private final DataKeyIssuer delegate;
    private final AtomicLong calls = new AtomicLong();

    CountingIssuer(DataKeyIssuer delegate) {
      this.delegate = delegate;
    }

    @Override
    public KeyProviderId provider() {
      return delegate.provider();
    }

    @Override
    public dev.spillway.core.keys.KeyRecordSigner signer() {
      return delegate.signer();
    }

    @Override
    public IssuedDataKey issue(KeyContext context) throws KeyUnavailableException {
      calls.incrementAndGet();
      return delegate.issue(context);
    }

    public long calls() {
      return calls.get();
    }
  }
}
