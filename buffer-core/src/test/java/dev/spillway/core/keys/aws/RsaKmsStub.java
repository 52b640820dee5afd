package dev.spillway.core.keys.aws;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Cipher;

/**
 * The RSA half of KMS, for the reader tests only: moto cannot decrypt RSA-OAEP ciphertexts made
 * with the public key it hands out (its Decrypt parses every blob as its own AES-GCM format and
 * ignores EncryptionAlgorithm). This stub holds a test RSA-3072 key pair on 127.0.0.1 and answers
 * GetPublicKey and Decrypt in the KMS JSON protocol, with KMS's rules for RSAES_OAEP_SHA_256:
 * SHA-256 for the hash and MGF1, empty label, KeyId and EncryptionAlgorithm required. It can
 * answer the next calls with a chosen error (throttling, access denied, ...).
 */
final class RsaKmsStub implements AutoCloseable {
  static final String KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/0b6c5a1e-rsa-test-key";

  record Request(String operation, String keyId, String encryptionAlgorithm) {}

  private final KeyPair pair;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(2);
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger errorsToSend = new AtomicInteger();
  private final AtomicReference<String> errorCode = new AtomicReference<>();
  private final AtomicInteger errorStatus = new AtomicInteger();

  RsaKmsStub() throws IOException, GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(3072);
    this.pair = g.generateKeyPair();
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  KeyPair keyPair() {
    return pair;
  }

  List<Request> requests() {
    return List.copyOf(requests);
  }

  long count(KmsOperation op) {
    return requests.stream().filter(r -> r.operation.equals(op.apiName())).count();
  }

  /** The next {@code n} requests fail with this AWS error code and HTTP status. */
  void failNext(int n, String code, int status) {
    errorCode.set(code);
    errorStatus.set(status);
    errorsToSend.set(n);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String target = ex.getRequestHeaders().getFirst("X-Amz-Target");
      String op = target == null ? "" : target.substring(target.indexOf('.') + 1);
      JsonObject body = JsonParser.parseString(
          new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
      requests.add(new Request(op, str(body, "KeyId"), str(body, "EncryptionAlgorithm")));
      if (errorsToSend.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        reply(ex, errorStatus.get(), error(errorCode.get()));
        return;
      }
      switch (op) {
        case "GetPublicKey" -> reply(ex, 200, publicKey());
        case "Decrypt" -> decrypt(ex, body);
        default -> reply(ex, 400, error("UnsupportedOperationException"));
      }
    }
  }

  private JsonObject publicKey() {
    JsonObject o = new JsonObject();
    o.addProperty("KeyId", KEY_ARN);
    o.addProperty("PublicKey", Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()));
    o.addProperty("KeySpec", "RSA_3072");
    o.addProperty("KeyUsage", "ENCRYPT_DECRYPT");
    JsonArray algs = new JsonArray();
    algs.add("RSAES_OAEP_SHA_1");
    algs.add("RSAES_OAEP_SHA_256");
    o.add("EncryptionAlgorithms", algs);
    return o;
  }

  private void decrypt(HttpExchange ex, JsonObject body) throws IOException {
    if (!KEY_ARN.equals(str(body, "KeyId"))) {
      reply(ex, 400, error(str(body, "KeyId") == null ? "ValidationException" : "IncorrectKeyException"));
      return;
    }
    if (!"RSAES_OAEP_SHA_256".equals(str(body, "EncryptionAlgorithm"))) {
      reply(ex, 400, error("InvalidCiphertextException"));
      return;
    }
    byte[] plain;
    try {
      Cipher c = Cipher.getInstance(KmsRsaIssuer.TRANSFORMATION);
      c.init(Cipher.DECRYPT_MODE, pair.getPrivate(), KmsRsaIssuer.OAEP_SHA256);
      plain = c.doFinal(Base64.getDecoder().decode(str(body, "CiphertextBlob")));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      reply(ex, 400, error("InvalidCiphertextException"));
      return;
    }
    JsonObject o = new JsonObject();
    o.addProperty("KeyId", KEY_ARN);
    o.addProperty("Plaintext", Base64.getEncoder().encodeToString(plain));
    o.addProperty("EncryptionAlgorithm", "RSAES_OAEP_SHA_256");
    reply(ex, 200, o);
  }

  private static String str(JsonObject o, String name) {
    return o.has(name) ? o.get(name).getAsString() : null;
  }

  private static JsonObject error(String code) {
    JsonObject o = new JsonObject();
    o.addProperty("__type", code);
    o.addProperty("message", "stub: " + code);
    return o;
  }

  private static void reply(HttpExchange ex, int status, JsonObject body) throws IOException {
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
    ex.getResponseHeaders().set("x-amzn-RequestId", "stub-" + System.nanoTime());
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    try {
      executor.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
