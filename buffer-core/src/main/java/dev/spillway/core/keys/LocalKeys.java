package dev.spillway.core.keys;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonParseException;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.hybrid.HpkeParameters;
import com.google.crypto.tink.hybrid.HybridConfig;
import dev.spillway.core.internal.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The embedded {@code local} key provider: a Tink HPKE keyset pair
 * (DHKEM_X25519_HKDF_SHA256 / HKDF_SHA256 / AES_256_GCM).
 *
 * <p>The writer loads only the public keyset ({@code writer.json}) and so can wrap new data keys
 * but never unwrap one. The reader loads the private keyset ({@code reader.json}). {@link
 * #rotate(Path)} adds a new key pair and keeps the old private keys, so epochs wrapped before the
 * rotation still drain. The reader keyset can itself be stored encrypted ({@link KeysetProtection}):
 * then the file is a small JSON wrapper, {@code {"spillwayEncryptedKeyset": 1, "protection": ...,
 * "salt": ..., "keyset": <Tink encrypted keyset JSON>}}.
 */
public final class LocalKeys {
  /** File name of the public keyset the writer loads. */
  public static final String WRITER_FILE = "writer.json";

  /** File name of the private keyset the reader loads. */
  public static final String READER_FILE = "reader.json";

  /** The HPKE suite, as Tink parameters. Ciphertexts carry Tink's 5-byte key-id prefix. */
  public static final HpkeParameters PARAMETERS;

  static {
    try {
      HybridConfig.register();
      PARAMETERS =
          HpkeParameters.builder()
              .setKemId(HpkeParameters.KemId.DHKEM_X25519_HKDF_SHA256)
              .setKdfId(HpkeParameters.KdfId.HKDF_SHA256)
              .setAeadId(HpkeParameters.AeadId.AES_256_GCM)
              .setVariant(HpkeParameters.Variant.TINK)
              .build();
    } catch (GeneralSecurityException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private LocalKeys() {}

  private static final String ENCRYPTED_MARKER = "spillwayEncryptedKeyset";
  private static final byte[] KEYSET_AD = "spillway-reader-keyset-v1".getBytes(StandardCharsets.US_ASCII);

  /**
   * Writes a new pair into {@code dir} (created 0700 if missing): {@value #WRITER_FILE} and
   * {@value #READER_FILE}, both 0600. Refuses to overwrite an existing pair.
   */
  public static void init(Path dir) throws IOException {
    init(dir, KeysetProtection.none());
  }

  /** As {@link #init(Path)}, with the reader keyset encrypted by {@code protection}. */
  public static void init(Path dir, KeysetProtection protection) throws IOException {
    Path writer = dir.resolve(WRITER_FILE);
    Path reader = dir.resolve(READER_FILE);
    if (Files.exists(writer) || Files.exists(reader)) {
      throw new IOException(
          "a key pair already exists in " + dir + "; use 'keys rotate' to add a new one");
    }
    try {
      KeysetHandle privateHandle = KeysetHandle.generateNew(PARAMETERS);
      writePair(dir, privateHandle, protection);
    } catch (GeneralSecurityException e) {
      throw new IOException("could not generate the HPKE key pair", e);
    }
  }

  /**
   * Adds a new key pair to the keysets in {@code dir} and makes it primary. The writer's public
   * keyset then holds only the new public key; the reader keeps every private key.
   */
  public static void rotate(Path dir) throws IOException {
    rotate(dir, KeysetProtection.none());
  }

  /** As {@link #rotate(Path)}, for a reader keyset protected by {@code protection}. */
  public static void rotate(Path dir, KeysetProtection protection) throws IOException {
    Path reader = dir.resolve(READER_FILE);
    try {
      KeysetHandle old = readPrivate(reader, protection);
      KeysetHandle.Builder b = KeysetHandle.newBuilder(old);
      for (int i = 0; i < b.size(); i++) {
        b.getAt(i).setStatus(com.google.crypto.tink.KeyStatus.ENABLED);
      }
      b.addEntry(KeysetHandle.generateEntryFromParameters(PARAMETERS).withRandomId().makePrimary());
      writePair(dir, b.build(), protection);
    } catch (GeneralSecurityException e) {
      throw new IOException("could not rotate the key pair in " + dir, e);
    }
  }

  private static void writePair(Path dir, KeysetHandle privateHandle, KeysetProtection protection)
      throws IOException, GeneralSecurityException {
    PrivateFiles.createPrivateDirectories(dir);
    // Public keyset: only the primary's public key, so a writer never wraps for a retired key.
    KeysetHandle publicHandle = privateHandle.getPublicKeysetHandle();
    KeysetHandle writerOnly =
        KeysetHandle.newBuilder()
            .addEntry(
                KeysetHandle.importKey(publicHandle.getPrimary().getKey())
                    .withFixedId(publicHandle.getPrimary().getId())
                    .makePrimary())
            .build();
    PrivateFiles.writeAtomically(
        dir.resolve(WRITER_FILE),
        TinkJsonProtoKeysetFormat.serializeKeysetWithoutSecret(writerOnly)
            .getBytes(StandardCharsets.UTF_8));
    String reader;
    if (protection.isNone()) {
      reader = TinkJsonProtoKeysetFormat.serializeKeyset(privateHandle, InsecureSecretKeyAccess.get());
    } else {
      byte[] salt = new byte[16];
      new SecureRandom().nextBytes(salt);
      JsonObject wrapper = new JsonObject();
      wrapper.addProperty(ENCRYPTED_MARKER, 1);
      wrapper.addProperty("protection", protection.kind());
      if (protection.needsSalt()) {
        wrapper.addProperty("salt", Base64.getEncoder().encodeToString(salt));
        wrapper.addProperty("iterations", KeysetProtection.PBKDF2_ITERATIONS);
      }
      wrapper.addProperty(
          "keyset",
          TinkJsonProtoKeysetFormat.serializeEncryptedKeyset(
              privateHandle, protection.keysetAead(salt), KEYSET_AD));
      reader = wrapper.toString();
    }
    PrivateFiles.writeAtomically(dir.resolve(READER_FILE), reader.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The writer half: loads a public keyset. A keyset that holds private key material is refused,
   * so a writer configured with the reader's file fails at start instead of gaining read rights.
   */
  public static DataKeyIssuer issuer(Path writerKeyset) throws IOException {
    String json = readKeysetFile(writerKeyset, "writer");
    KeysetHandle handle;
    try {
      handle = TinkJsonProtoKeysetFormat.parseKeysetWithoutSecret(json);
    } catch (GeneralSecurityException e) {
      throw new IOException(
          writerKeyset
              + " is not a public HPKE keyset (a writer must be given writer.json, never the"
              + " private reader.json)",
          e);
    }
    return new LocalHpkeIssuer(handle);
  }

  /** The reader half: loads a private keyset (every key in it can unwrap). */
  public static DataKeyUnwrapper unwrapper(Path readerKeyset) throws IOException {
    return unwrapper(readerKeyset, KeysetProtection.none());
  }

  /** The reader half, from a reader keyset encrypted with {@code protection}. */
  public static DataKeyUnwrapper unwrapper(Path readerKeyset, KeysetProtection protection)
      throws IOException {
    try {
      return new LocalHpkeUnwrapper(readPrivate(readerKeyset, protection));
    } catch (GeneralSecurityException e) {
      throw new IOException(
          readerKeyset + " is not a private HPKE keyset"
              + (protection.isNone() ? "" : " that opens with the given " + protection.kind()),
          e);
    }
  }

  /** Whether the reader keyset file is stored encrypted. */
  public static boolean isEncrypted(Path readerKeyset) throws IOException {
    return readKeysetFile(readerKeyset, "reader").contains("\"" + ENCRYPTED_MARKER + "\"");
  }

  private static KeysetHandle readPrivate(Path file, KeysetProtection protection)
      throws IOException, GeneralSecurityException {
    String json = readKeysetFile(file, "reader");
    JsonObject wrapper = null;
    try {
      JsonObject o = JsonParser.parseString(json).getAsJsonObject();
      if (o.has(ENCRYPTED_MARKER)) {
        wrapper = o;
      }
    } catch (JsonParseException | IllegalStateException e) {
      throw new IOException(file + " is not JSON", e);
    }
    if (wrapper == null) {
      if (!protection.isNone()) {
        throw new IOException(file + " is not encrypted, but " + protection.kind() + " was given");
      }
      return TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get());
    }
    String kind = wrapper.get("protection").getAsString();
    if (protection.isNone()) {
      throw new IOException(
          file + " is encrypted (" + kind + "); give its protection (a passphrase or KMS key)");
    }
    if (!kind.equals(protection.kind())) {
      throw new IOException(file + " is protected by " + kind + ", not " + protection.kind());
    }
    byte[] salt = wrapper.has("salt") ? Base64.getDecoder().decode(wrapper.get("salt").getAsString()) : new byte[0];
    if (wrapper.has("iterations")
        && wrapper.get("iterations").getAsInt() != KeysetProtection.PBKDF2_ITERATIONS) {
      throw new IOException(file + " uses " + wrapper.get("iterations") + " PBKDF2 iterations; this version uses "
          + KeysetProtection.PBKDF2_ITERATIONS);
    }
    try {
      return TinkJsonProtoKeysetFormat.parseEncryptedKeyset(
          wrapper.get("keyset").getAsString(), protection.keysetAead(salt), KEYSET_AD);
    } catch (GeneralSecurityException e) {
      throw new IOException(file + " does not open with the given " + protection.kind() + " (wrong passphrase or key?)", e);
    }
  }

  private static String readKeysetFile(Path file, String role) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("the " + role + " keyset " + file + " does not exist");
    }
    return Files.readString(file, StandardCharsets.UTF_8);
  }
}
