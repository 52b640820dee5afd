package dev.spillway.core.keys;

import com.google.crypto.tink.InsecureSecretKeyAccess;
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

/**
 * The embedded {@code local} key provider: a Tink HPKE keyset pair
 * (DHKEM_X25519_HKDF_SHA256 / HKDF_SHA256 / AES_256_GCM).
 *
 * <p>The writer loads only the public keyset ({@code writer.json}) and so can wrap new data keys
 * but never unwrap one. The reader loads the private keyset ({@code reader.json}). {@link
 * #rotate(Path)} adds a new key pair and keeps the old private keys, so epochs wrapped before the
 * rotation still drain.
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

  /**
   * Writes a new pair into {@code dir} (created 0700 if missing): {@value #WRITER_FILE} and
   * {@value #READER_FILE}, both 0600. Refuses to overwrite an existing pair.
   */
  public static void init(Path dir) throws IOException {
    Path writer = dir.resolve(WRITER_FILE);
    Path reader = dir.resolve(READER_FILE);
    if (Files.exists(writer) || Files.exists(reader)) {
      throw new IOException(
          "a key pair already exists in " + dir + "; use 'keys rotate' to add a new one");
    }
    try {
      KeysetHandle privateHandle = KeysetHandle.generateNew(PARAMETERS);
      writePair(dir, privateHandle);
    } catch (GeneralSecurityException e) {
      throw new IOException("could not generate the HPKE key pair", e);
    }
  }

  /**
   * Adds a new key pair to the keysets in {@code dir} and makes it primary. The writer's public
   * keyset then holds only the new public key; the reader keeps every private key.
   */
  public static void rotate(Path dir) throws IOException {
    Path reader = dir.resolve(READER_FILE);
    try {
      KeysetHandle old = readPrivate(reader);
      KeysetHandle.Builder b = KeysetHandle.newBuilder(old);
      for (int i = 0; i < b.size(); i++) {
        b.getAt(i).setStatus(com.google.crypto.tink.KeyStatus.ENABLED);
      }
      b.addEntry(KeysetHandle.generateEntryFromParameters(PARAMETERS).withRandomId().makePrimary());
      writePair(dir, b.build());
    } catch (GeneralSecurityException e) {
      throw new IOException("could not rotate the key pair in " + dir, e);
    }
  }

  private static void writePair(Path dir, KeysetHandle privateHandle)
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
    PrivateFiles.writeAtomically(
        dir.resolve(READER_FILE),
        TinkJsonProtoKeysetFormat.serializeKeyset(privateHandle, InsecureSecretKeyAccess.get())
            .getBytes(StandardCharsets.UTF_8));
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
    try {
      return new LocalHpkeUnwrapper(readPrivate(readerKeyset));
    } catch (GeneralSecurityException e) {
      throw new IOException(readerKeyset + " is not a private HPKE keyset", e);
    }
  }

  private static KeysetHandle readPrivate(Path file) throws IOException, GeneralSecurityException {
    String json = readKeysetFile(file, "reader");
    return TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get());
  }

  private static String readKeysetFile(Path file, String role) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("the " + role + " keyset " + file + " does not exist");
    }
    return Files.readString(file, StandardCharsets.UTF_8);
  }
}
