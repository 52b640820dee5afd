package dev.spillway.server.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * A real moto KMS server ({@code moto_server} from env {@value #ENV}) on 127.0.0.1 and a free port,
 * for one test class. buffer-core's fixture is package-private in its test sources, so this is the
 * server module's own, smaller one. Skipped loudly without the variable; a failure when CI=true.
 * {@link #close()} SIGKILLs it.
 */
public final class Moto implements AutoCloseable {
  public static final String ENV = "SPILLWAY_MOTO_SERVER";
  public static final String REGION = "us-east-1";
  /** moto accepts any credentials; these go to child JVMs as AWS_* variables. */
  public static final Map<String, String> CREDENTIALS_ENV = Map.of(
      "AWS_ACCESS_KEY_ID", "spillway-test", "AWS_SECRET_ACCESS_KEY", "spillway-test", "AWS_REGION", REGION);

  private final Process process;
  private final int port;
  private final KmsClient admin;

  private Moto(Process process, int port) {
    this.process = process;
    this.port = port;
    this.admin = KmsClient.builder()
        .region(Region.of(REGION))
        .endpointOverride(endpoint())
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("spillway-test", "spillway-test")))
        .httpClientBuilder(UrlConnectionHttpClient.builder())
        .build();
  }

  public static Moto start() throws Exception {
    String executable = System.getenv(ENV);
    if (executable == null || executable.isBlank()) {
      String message = "\n!!!!!!!! " + ENV + " is not set: the aws-kms configuration tests need moto_server"
          + " (.venv/bin/pip install 'moto[server]>=5,<6'; export " + ENV + "=$PWD/.venv/bin/moto_server) !!!!!!!!\n";
      if ("true".equals(System.getenv("CI"))) {
        throw new IllegalStateException(message + "CI=true: moto is required in CI");
      }
      System.err.println(message + "SKIPPING the moto-backed server tests.");
      Assumptions.abort(ENV + " is not set; moto-backed server tests skipped");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Process p = new ProcessBuilder(executable, "-H", "127.0.0.1", "-p", Integer.toString(port))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    Moto moto = new Moto(p, port);
    // Ready when it answers a KMS call; bounded in time and attempts.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    RuntimeException last = null;
    for (int i = 0; i < 600 && System.nanoTime() < deadline && p.isAlive(); i++) {
      try {
        moto.admin.listKeys();
        return moto;
      } catch (RuntimeException e) {
        last = e;
        p.waitFor(100, TimeUnit.MILLISECONDS); // a polling interval that also notices an early exit
      }
    }
    moto.close();
    throw new IllegalStateException("moto_server did not answer on port " + port + " within 60 s", last);
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /** Creates a symmetric ENCRYPT_DECRYPT key; returns its ARN. */
  public String createSymmetricKey() {
    return admin.createKey(b -> b.description("spillway server test")).keyMetadata().arn();
  }

  /** Creates an asymmetric RSA_2048 ENCRYPT_DECRYPT key (for aws-kms-rsa's writer); returns its ARN. */
  public String createRsaKey() {
    return admin.createKey(b -> b.description("spillway server test, rsa")
        .keySpec(software.amazon.awssdk.services.kms.model.KeySpec.RSA_2048)
        .keyUsage(software.amazon.awssdk.services.kms.model.KeyUsageType.ENCRYPT_DECRYPT)).keyMetadata().arn();
  }

  @Override
  public void close() {
    admin.close();
    process.destroyForcibly(); // SIGKILL
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        throw new UncheckedIOException(new IOException("moto_server " + process.pid() + " did not die"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

}
