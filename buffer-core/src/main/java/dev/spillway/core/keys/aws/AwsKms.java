package dev.spillway.core.keys.aws;

import dev.spillway.core.keys.DataKeyIssuer;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.KeyProviderId;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.KmsClientBuilder;

/**
 * The AWS KMS key providers, over one KMS client (AWS SDK for Java v2, {@code
 * url-connection-client}). One {@code AwsKms} holds the connection settings; the providers it
 * makes name their KMS key:
 *
 * <ul>
 *   <li>{@link #issuer(String)} ({@code aws-kms} writer): {@code GenerateDataKey} (AES_256) with
 *       the epoch's encryption context, one call per data-key epoch. Never calls {@code Decrypt}.
 *   <li>{@link #unwrapper(String)} ({@code aws-kms} reader): {@code Decrypt} with the same context.
 *   <li>{@link #rsaIssuer(String)} ({@code aws-kms-rsa} writer): {@code GetPublicKey} once, then
 *       RSAES_OAEP_SHA_256 locally; no KMS call per epoch.
 *   <li>{@link #rsaUnwrapper(String)} ({@code aws-kms-rsa} reader): {@code Decrypt} with
 *       RSAES_OAEP_SHA_256.
 * </ul>
 *
 * <p>A reader that must drain epochs from before a key rotation holds one unwrapper per key:
 * {@code DataKeyUnwrapper.anyOf(List.of(kms.unwrapper(newArn), kms.unwrapper(oldArn)))}.
 *
 * <p>Failures: writers throw {@code KeyUnavailableException} for every KMS failure (the sealer
 * keeps the current key while its epoch lasts, then applies back-pressure); readers throw {@code
 * KeyRefusedException} only when the record itself cannot be opened with the named key, and
 * {@code KeyUnavailableException} for everything else. See docs/KMS.md.
 *
 * <p>Thread-safe, and so are the providers it makes. {@link #close()} releases the HTTP client;
 * providers of a closed instance fail with {@code KeyUnavailableException}.
 */
public final class AwsKms implements AutoCloseable {
  /** KMS key ARNs: {@code arn:aws:kms:<region>:<account>:key/<key id>}. */
  private static final Pattern KEY_ARN =
      Pattern.compile("arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):key/([A-Za-z0-9-]+)");

  private final KmsClient client;
  private final KmsMetrics metrics;
  private final Region region;
  private final int unwrapCacheSize;
  private final Duration unwrapCacheTtl;
  private final AtomicBoolean closed = new AtomicBoolean();

  private AwsKms(Builder b) {
    this.metrics = new KmsMetrics();
    this.unwrapCacheSize = b.unwrapCacheSize;
    this.unwrapCacheTtl = b.unwrapCacheTtl;
    KmsClientBuilder cb =
        KmsClient.builder()
            .httpClientBuilder(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(b.connectTimeout)
                    .socketTimeout(b.attemptTimeout))
            .credentialsProvider(
                b.credentials != null ? b.credentials : DefaultCredentialsProvider.builder().build())
            .overrideConfiguration(
                o -> {
                  o.apiCallTimeout(b.callTimeout)
                      .apiCallAttemptTimeout(b.attemptTimeout)
                      // The AWS standard strategy retries throttling (ThrottlingException), 5xx
                      // and I/O errors; throttling waits at least four times the base delay.
                      .retryStrategy(
                          AwsRetryStrategy.standardRetryStrategy().toBuilder()
                              .maxAttempts(b.maxAttempts)
                              .backoffStrategy(
                                  BackoffStrategy.exponentialDelay(b.backoffBase, b.backoffMax))
                              .throttlingBackoffStrategy(
                                  BackoffStrategy.exponentialDelay(
                                      min(b.backoffBase.multipliedBy(4), b.backoffMax),
                                      b.backoffMax))
                              .build())
                      .addExecutionInterceptor(new AttemptCounter(metrics));
                  b.interceptors.forEach(o::addExecutionInterceptor);
                });
    if (b.region != null) {
      cb.region(Region.of(b.region));
    }
    if (b.endpointOverride != null) {
      cb.endpointOverride(b.endpointOverride);
    }
    this.client = cb.build();
    this.region = client.serviceClientConfiguration().region();
  }

  /** A builder with the defaults documented on its setters. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The {@code aws-kms} writer: {@code GenerateDataKey} under {@code keyId} (a key id, key ARN,
   * alias name or alias ARN). The wrapped key records the key's ARN as returned by KMS, so a
   * writer configured with an alias still names the actual key a reader needs.
   */
  public DataKeyIssuer issuer(String keyId) {
    return new KmsDataKeyIssuer(this, requireKeyId(keyId));
  }

  /**
   * The {@code aws-kms} reader for one key. {@code keyArn} must be a full key ARN in this client's
   * region: it is what the writer recorded, and it is sent with every {@code Decrypt} so KMS never
   * picks another key.
   *
   * @throws IllegalArgumentException if {@code keyArn} is not a key ARN of this client's region
   */
  public DataKeyUnwrapper unwrapper(String keyArn) {
    return new KmsUnwrapper(this, requireKeyArn(keyArn), KeyProviderId.AWS_KMS, newCache());
  }

  /**
   * The {@code aws-kms-rsa} writer: fetches the public key of {@code keyId} with {@code
   * GetPublicKey} on the first {@code issue} (and again only until that succeeds), then wraps
   * every new data key locally. The key must be an RSA {@code ENCRYPT_DECRYPT} key of at least
   * 2048 bits that allows RSAES_OAEP_SHA_256. Local wrapping escapes KMS audit logs and
   * key-disable: see docs/KMS.md.
   */
  public DataKeyIssuer rsaIssuer(String keyId) {
    return new KmsRsaIssuer(this, requireKeyId(keyId));
  }

  /**
   * The {@code aws-kms-rsa} reader for one key: {@code Decrypt} with RSAES_OAEP_SHA_256.
   *
   * @throws IllegalArgumentException if {@code keyArn} is not a key ARN of this client's region
   */
  public DataKeyUnwrapper rsaUnwrapper(String keyArn) {
    return new KmsUnwrapper(this, requireKeyArn(keyArn), KeyProviderId.AWS_KMS_RSA, newCache());
  }

  /** Counters of the KMS calls made through this instance. */
  public KmsMetrics metrics() {
    return metrics;
  }

  /** The region the client talks to (configured, or resolved by the SDK's default chain). */
  public String region() {
    return region.id();
  }

  /** Closes the KMS client. Safe to call more than once. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      client.close();
    }
  }

  /** Runs one KMS call and records it. SDK exceptions pass through for the caller to classify. */
  <T> T call(KmsOperation op, Function<KmsClient, T> request) {
    long start = System.nanoTime();
    boolean failed = true;
    try {
      if (closed.get()) {
        throw new IllegalStateException("the AwsKms client is closed");
      }
      T result = request.apply(client);
      failed = false;
      return result;
    } finally {
      metrics.recordCall(op, System.nanoTime() - start, failed);
    }
  }

  private UnwrappedKeyCache newCache() {
    return new UnwrappedKeyCache(unwrapCacheSize, unwrapCacheTtl.toNanos(), System::nanoTime);
  }

  /**
   * The key ref a writer records: the key ARN, which is what readers are configured with. KMS
   * answers with the ARN; if an answer carries a bare key id (moto's GetPublicKey does), the
   * configured id is used when it is an ARN.
   */
  static String keyRefFor(String returnedKeyId, String configuredKeyId) {
    if (returnedKeyId != null && KEY_ARN.matcher(returnedKeyId).matches()) {
      return returnedKeyId;
    }
    if (KEY_ARN.matcher(configuredKeyId).matches() || returnedKeyId == null) {
      return configuredKeyId;
    }
    return returnedKeyId;
  }

  private static String requireKeyId(String keyId) {
    Objects.requireNonNull(keyId, "keyId");
    if (keyId.isBlank()) {
      throw new IllegalArgumentException("the KMS key id must not be blank");
    }
    return keyId;
  }

  private String requireKeyArn(String keyArn) {
    Objects.requireNonNull(keyArn, "keyArn");
    Matcher m = KEY_ARN.matcher(keyArn);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "a reader needs the full key ARN (arn:aws:kms:<region>:<account>:key/<id>), got '"
              + keyArn
              + "': aliases move on rotation, and key records name the ARN");
    }
    if (!m.group(1).equals(region.id())) {
      throw new IllegalArgumentException(
          "key " + keyArn + " is in region " + m.group(1) + " but this client talks to "
              + region.id() + "; every Decrypt would fail");
    }
    return keyArn;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** Counts HTTP attempts (first tries and retries) per operation. */
  private static final class AttemptCounter implements ExecutionInterceptor {
    private final KmsMetrics metrics;

    AttemptCounter(KmsMetrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
      KmsOperation op =
          KmsOperation.fromApiName(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME));
      if (op != null) {
        metrics.recordAttempt(op);
      }
    }
  }

  /**
   * Builds an {@link AwsKms}. Setters validate at once. Not thread-safe; build once and share the
   * result.
   */
  public static final class Builder {
    /** Default TCP connect time-out: {@value #DEFAULT_CONNECT_TIMEOUT_MILLIS} ms. */
    public static final long DEFAULT_CONNECT_TIMEOUT_MILLIS = 2_000;
    /** Default time-out of one HTTP attempt: {@value #DEFAULT_ATTEMPT_TIMEOUT_MILLIS} ms. */
    public static final long DEFAULT_ATTEMPT_TIMEOUT_MILLIS = 2_000;
    /**
     * Default time-out of a whole call, retries included: {@value #DEFAULT_CALL_TIMEOUT_MILLIS}
     * ms. The sealer asks for a key under the spill writer's append lock, so this bounds how long
     * one append can wait for a KMS that does not answer.
     */
    public static final long DEFAULT_CALL_TIMEOUT_MILLIS = 5_000;
    /** Default attempts per call, the first included: {@value #DEFAULT_MAX_ATTEMPTS}. */
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    /** Default base of the exponential retry back-off: {@value #DEFAULT_BACKOFF_BASE_MILLIS} ms. */
    public static final long DEFAULT_BACKOFF_BASE_MILLIS = 100;
    /** Default ceiling of the retry back-off: {@value #DEFAULT_BACKOFF_MAX_MILLIS} ms. */
    public static final long DEFAULT_BACKOFF_MAX_MILLIS = 2_000;
    /** Default bound on unwrapped keys a reader keeps: {@value #DEFAULT_UNWRAP_CACHE_SIZE}. */
    public static final int DEFAULT_UNWRAP_CACHE_SIZE = 32;
    /** Default age after which a cached unwrapped key is asked for again: 10 minutes. */
    public static final Duration DEFAULT_UNWRAP_CACHE_TTL = Duration.ofMinutes(10);

    private String region;
    private URI endpointOverride;
    private AwsCredentialsProvider credentials;
    private Duration connectTimeout = Duration.ofMillis(DEFAULT_CONNECT_TIMEOUT_MILLIS);
    private Duration attemptTimeout = Duration.ofMillis(DEFAULT_ATTEMPT_TIMEOUT_MILLIS);
    private Duration callTimeout = Duration.ofMillis(DEFAULT_CALL_TIMEOUT_MILLIS);
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration backoffBase = Duration.ofMillis(DEFAULT_BACKOFF_BASE_MILLIS);
    private Duration backoffMax = Duration.ofMillis(DEFAULT_BACKOFF_MAX_MILLIS);
    private int unwrapCacheSize = DEFAULT_UNWRAP_CACHE_SIZE;
    private Duration unwrapCacheTtl = DEFAULT_UNWRAP_CACHE_TTL;
    private final List<ExecutionInterceptor> interceptors = new ArrayList<>();

    Builder() {}

    /** The AWS region, e.g. {@code eu-west-1}. Default: the SDK's region chain (AWS_REGION, profile). */
    public Builder region(String region) {
      Objects.requireNonNull(region, "region");
      if (region.isBlank()) {
        throw new IllegalArgumentException("region must not be blank");
      }
      this.region = region;
      return this;
    }

    /** A KMS endpoint other than the region's (a VPC endpoint, FIPS, or a test server). */
    public Builder endpointOverride(URI endpoint) {
      Objects.requireNonNull(endpoint, "endpoint");
      if (endpoint.getScheme() == null || endpoint.getHost() == null) {
        throw new IllegalArgumentException("endpoint must be an absolute http(s) URI, got " + endpoint);
      }
      this.endpointOverride = endpoint;
      return this;
    }

    /** Where credentials come from. Default: the SDK's default chain (env, profile, web identity, IMDS). */
    public Builder credentialsProvider(AwsCredentialsProvider credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /** TCP connect time-out. Default {@value #DEFAULT_CONNECT_TIMEOUT_MILLIS} ms. */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connectTimeout");
      return this;
    }

    /** Time-out of one HTTP attempt (also the socket read time-out). Default {@value #DEFAULT_ATTEMPT_TIMEOUT_MILLIS} ms. */
    public Builder attemptTimeout(Duration timeout) {
      this.attemptTimeout = positive(timeout, "attemptTimeout");
      return this;
    }

    /** Time-out of a whole call, retries and back-off included. Default {@value #DEFAULT_CALL_TIMEOUT_MILLIS} ms. */
    public Builder callTimeout(Duration timeout) {
      this.callTimeout = positive(timeout, "callTimeout");
      return this;
    }

    /** Attempts per call, the first included (1 disables retries). Default {@value #DEFAULT_MAX_ATTEMPTS}. */
    public Builder maxAttempts(int attempts) {
      if (attempts < 1 || attempts > 10) {
        throw new IllegalArgumentException("maxAttempts must be in 1..10, got " + attempts);
      }
      this.maxAttempts = attempts;
      return this;
    }

    /**
     * Exponential back-off with jitter between retries: {@code base * 2^n}, at most {@code max}.
     * Throttling ({@code ThrottlingException}) starts at four times the base. Default {@value
     * #DEFAULT_BACKOFF_BASE_MILLIS} ms to {@value #DEFAULT_BACKOFF_MAX_MILLIS} ms.
     */
    public Builder retryBackoff(Duration base, Duration max) {
      positive(base, "base");
      positive(max, "max");
      if (base.compareTo(max) > 0) {
        throw new IllegalArgumentException("back-off base " + base + " exceeds its maximum " + max);
      }
      this.backoffBase = base;
      this.backoffMax = max;
      return this;
    }

    /**
     * How many unwrapped data keys a reader keeps, so an epoch read again does not call KMS
     * again; 0 turns the cache off. Default {@value #DEFAULT_UNWRAP_CACHE_SIZE}.
     */
    public Builder unwrapCacheSize(int size) {
      if (size < 0 || size > 4096) {
        throw new IllegalArgumentException("unwrapCacheSize must be in 0..4096, got " + size);
      }
      this.unwrapCacheSize = size;
      return this;
    }

    /**
     * How long a cached unwrapped key is used before KMS is asked again (a key disabled in KMS
     * stops opening cached epochs after this). Default 10 minutes.
     */
    public Builder unwrapCacheTtl(Duration ttl) {
      this.unwrapCacheTtl = positive(ttl, "unwrapCacheTtl");
      return this;
    }

    /** Tests count calls on the wire with this; not API. */
    Builder addInterceptor(ExecutionInterceptor interceptor) {
      interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
      return this;
    }

    /**
     * Builds the client.
     *
     * @throws IllegalArgumentException if the attempt time-out exceeds the call time-out, or the
     *     connect time-out exceeds the attempt time-out
     * @throws software.amazon.awssdk.core.exception.SdkClientException if no region is set and
     *     none can be resolved
     */
    public AwsKms build() {
      if (attemptTimeout.compareTo(callTimeout) > 0) {
        throw new IllegalArgumentException(
            "attemptTimeout " + attemptTimeout + " exceeds callTimeout " + callTimeout);
      }
      if (connectTimeout.compareTo(attemptTimeout) > 0) {
        throw new IllegalArgumentException(
            "connectTimeout " + connectTimeout + " exceeds attemptTimeout " + attemptTimeout);
      }
      return new AwsKms(this);
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
      return d;
    }
  }
}
