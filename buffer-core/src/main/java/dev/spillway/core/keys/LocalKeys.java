package dev.spillway.core.keys;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonParseException;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.hybrid.HpkeParameters;
import com.google.crypto.tink.hybrid.HybridConfig;
import com.google.crypto.tink.PublicKeySign;
import com.google.crypto.tink.PublicKeyVerify;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.signature.PredefinedSignatureParameters;
import com.google.crypto.tink.signature.SignatureConfig;
import com.google.crypto.tink.signature.SignatureParameters;
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
 * (DHKEM_X25519_HKDF_SHA256 / HKDF_SHA256 / AES_256_GCM) and an Ed25519 key-record signing pair.
 *
 * <p>Four files, two per role:
 *
 * <ul>
 *   <li>ingest (writer): {@value #WRITER_FILE}, the public HPKE keyset (wraps new data keys, never
 *       unwraps one), and {@value #SIGNER_FILE}, the private Ed25519 keyset that signs every key
 *       record. The writer's two files are found in one directory.
 *   <li>drain (reader): {@value #READER_FILE}, the private HPKE keyset, and {@value
 *       #VERIFIER_FILE}, the public Ed25519 keyset that checks those signatures.
 * </ul>
 *
 * <p>Without the signature, anyone holding the public {@code writer.json} and write access to the
 * spill directory could wrap a data key of their own and append records the drain would accept.
 * {@link #rotate(Path)} adds a new HPKE pair and a new signing key, keeps the old private HPKE keys
 * and old public signing keys, so epochs wrapped before the rotation still drain. It also migrates a
 * directory made before signing keys existed: it creates the signing pair. The reader keyset can itself be stored encrypted ({@link KeysetProtection}):
 * then the file is a small JSON wrapper, {@code {"spillwayEncryptedKeyset": 1, "protection": ...,
 * "salt": ..., "keyset": <Tink encrypted keyset JSON>}}.
 */
public final class LocalKeys {
  /** File name of the public keyset the writer loads. */
  public static final String WRITER_FILE = "writer.json";

  /** File name of the private keyset the reader loads. */
  public static final String READER_FILE = "reader.json";

  /** File name of the private Ed25519 keyset the writer signs key records with. */
  public static final String SIGNER_FILE = "signer.json";

  /** File name of the public Ed25519 keyset the reader checks key-record signatures with. */
  public static final String VERIFIER_FILE = "verifier.json";

  /** The key-record signature: Ed25519, Tink variant (5-byte key-id prefix, 69 bytes in all). */
  public static final SignatureParameters SIGNATURE_PARAMETERS = PredefinedSignatureParameters.ED25519;

  /** The HPKE suite, as Tink parameters. Ciphertexts carry Tink's 5-byte key-id prefix. */
  public static final HpkeParameters PARAMETERS;

  static {
    try {
      HybridConfig.register();
      SignatureConfig.register();
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

  /** Makes sure Tink's hybrid and signature key managers are registered (class initialisation). */
  static void registerTink() {
    // the static initialiser above did it
  }

  /** How key files are written; tests inject one that fails. */
  @FunctionalInterface
  interface KeyFileWriter {
    void write(Path file, byte[] content) throws IOException;
  }

  private static final KeyFileWriter ATOMIC = PrivateFiles::writeAtomically;

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
    for (String f : new String[] {WRITER_FILE, READER_FILE, SIGNER_FILE, VERIFIER_FILE}) {
      if (Files.exists(dir.resolve(f))) {
        throw new IOException(
            "a key pair already exists in " + dir + " (" + f + "); use 'keys rotate' to add a new one");
      }
    }
    try {
      KeysetHandle privateHandle = KeysetHandle.generateNew(PARAMETERS);
      KeysetHandle signing = KeysetHandle.generateNew(SIGNATURE_PARAMETERS);
      writeKeys(dir, privateHandle, signing, signing.getPublicKeysetHandle(), protection, ATOMIC);
    } catch (GeneralSecurityException e) {
      throw new IOException("could not generate the key pairs", e);
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
    rotate(dir, protection, ATOMIC);
  }

  static void rotate(Path dir, KeysetProtection protection, KeyFileWriter files) throws IOException {
    Path reader = dir.resolve(READER_FILE);
    try {
      KeysetHandle old = readPrivate(reader, protection);
      KeysetHandle.Builder b = KeysetHandle.newBuilder(old);
      for (int i = 0; i < b.size(); i++) {
        b.getAt(i).setStatus(com.google.crypto.tink.KeyStatus.ENABLED);
      }
      b.addEntry(KeysetHandle.generateEntryFromParameters(PARAMETERS).withRandomId().makePrimary());
      // A new signing key; the verifier keeps every old public key so old key records verify.
      KeysetHandle signing = KeysetHandle.generateNew(SIGNATURE_PARAMETERS);
      KeysetHandle.Builder v = KeysetHandle.newBuilder();
      Path verifierFile = dir.resolve(VERIFIER_FILE);
      if (Files.exists(verifierFile)) {
        KeysetHandle oldVerifier = readVerifierKeyset(verifierFile);
        for (int i = 0; i < oldVerifier.size(); i++) {
          v.addEntry(KeysetHandle.importKey(oldVerifier.getAt(i).getKey()).withFixedId(oldVerifier.getAt(i).getId()));
        }
      }
      KeysetHandle signingPublic = signing.getPublicKeysetHandle();
      v.addEntry(KeysetHandle.importKey(signingPublic.getPrimary().getKey())
          .withFixedId(signingPublic.getPrimary().getId()).makePrimary());
      writeKeys(dir, b.build(), signing, v.build(), protection, files);
    } catch (GeneralSecurityException e) {
      throw new IOException("could not rotate the key pair in " + dir, e);
    }
  }

  /**
   * Writes the four files, each atomically (temporary file, fsync, rename), in an order that never
   * publishes a key whose other half is missing: first what the reader needs (the private HPKE
   * keyset, then the public signing keys), then what the writer uses (the signing key, and last the
   * public HPKE key). If any write fails, the writer still seals to a key the reader holds and
   * signs with a key the reader can check; running the command again completes the rotation.
   */
  private static void writeKeys(
      Path dir,
      KeysetHandle privateHandle,
      KeysetHandle signing,
      KeysetHandle verifying,
      KeysetProtection protection,
      KeyFileWriter files)
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
    files.write(dir.resolve(READER_FILE), reader.getBytes(StandardCharsets.UTF_8));
    files.write(
        dir.resolve(VERIFIER_FILE),
        TinkJsonProtoKeysetFormat.serializeKeysetWithoutSecret(verifying).getBytes(StandardCharsets.UTF_8));
    files.write(
        dir.resolve(SIGNER_FILE),
        TinkJsonProtoKeysetFormat.serializeKeyset(signing, InsecureSecretKeyAccess.get())
            .getBytes(StandardCharsets.UTF_8));
    files.write(
        dir.resolve(WRITER_FILE),
        TinkJsonProtoKeysetFormat.serializeKeysetWithoutSecret(writerOnly)
            .getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The writer half: loads a public keyset, and the signing key {@value #SIGNER_FILE} from the same
   * directory. A keyset that holds private key material is refused, so a writer configured with the
   * reader's file fails at start instead of gaining read rights. A writer without a signing key is
   * refused too (see {@link #issuer(Path, Path)}).
   */
  public static DataKeyIssuer issuer(Path writerKeyset) throws IOException {
    return issuer(writerKeyset, siblingOf(writerKeyset, SIGNER_FILE));
  }

  /**
   * The writer half from a public HPKE keyset and a signing keyset, wherever they are.
   *
   * @throws IOException naming the file when either is missing or of the wrong kind; for a
   *     directory made before signing keys existed, the message says to run {@code keys rotate}
   */
  public static DataKeyIssuer issuer(Path writerKeyset, Path signerKeyset) throws IOException {
    return hpkeIssuer(writerKeyset).signedBy(signer(signerKeyset));
  }

  /** Loads a signing keyset ({@value #SIGNER_FILE}). */
  public static KeyRecordSigner signer(Path signerKeyset) throws IOException {
    if (!Files.isRegularFile(signerKeyset)) {
      throw new IOException(
          "the key-record signing key " + signerKeyset + " does not exist: without it anyone holding "
              + WRITER_FILE + " could forge records. Run 'spillway keys rotate --dir <dir>' on the key"
              + " directory to create " + SIGNER_FILE + " (give it to ingest) and " + VERIFIER_FILE
              + " (give it to drain)");
    }
    String json = Files.readString(signerKeyset, StandardCharsets.UTF_8);
    try {
      KeysetHandle h = TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get());
      h.getPrimitive(RegistryConfiguration.get(), PublicKeySign.class);
      return new KeyRecordSigner(h);
    } catch (GeneralSecurityException e) {
      throw new IOException(signerKeyset + " is not a private Ed25519 signing keyset", e);
    }
  }

  /** Loads a verifying keyset ({@value #VERIFIER_FILE}); private key material is refused. */
  public static KeyRecordVerifier verifier(Path verifierKeyset) throws IOException {
    if (!Files.isRegularFile(verifierKeyset)) {
      throw new IOException(
          "the key-record verifying key " + verifierKeyset + " does not exist: the reader cannot tell"
              + " genuine key records from forged ones. Run 'spillway keys rotate --dir <dir>' on the"
              + " key directory to create " + SIGNER_FILE + " (ingest) and " + VERIFIER_FILE + " (drain)");
    }
    try {
      return new KeyRecordVerifier(readVerifierKeyset(verifierKeyset));
    } catch (GeneralSecurityException e) {
      throw new IOException(verifierKeyset + " is not a public Ed25519 keyset", e);
    }
  }

  private static KeysetHandle readVerifierKeyset(Path file) throws IOException, GeneralSecurityException {
    KeysetHandle h = TinkJsonProtoKeysetFormat.parseKeysetWithoutSecret(
        Files.readString(file, StandardCharsets.UTF_8));
    h.getPrimitive(RegistryConfiguration.get(), PublicKeyVerify.class);
    return h;
  }

  private static Path siblingOf(Path file, String name) {
    Path parent = file.toAbsolutePath().getParent();
    return parent == null ? Path.of(name) : parent.resolve(name);
  }

  private static DataKeyIssuer hpkeIssuer(Path writerKeyset) throws IOException {
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

  /**
   * The reader half: loads a private keyset (every key in it can unwrap), and the verifying keys
   * {@value #VERIFIER_FILE} from the same directory.
   */
  public static DataKeyUnwrapper unwrapper(Path readerKeyset) throws IOException {
    return unwrapper(readerKeyset, KeysetProtection.none());
  }

  /** The reader half, from a reader keyset encrypted with {@code protection}. */
  public static DataKeyUnwrapper unwrapper(Path readerKeyset, KeysetProtection protection)
      throws IOException {
    return unwrapper(readerKeyset, protection, siblingOf(readerKeyset, VERIFIER_FILE));
  }

  /** The reader half from a reader keyset and a verifying keyset, wherever they are. */
  public static DataKeyUnwrapper unwrapper(
      Path readerKeyset, KeysetProtection protection, Path verifierKeyset) throws IOException {
    KeyRecordVerifier verifier = verifier(verifierKeyset);
    try {
      return new LocalHpkeUnwrapper(readPrivate(readerKeyset, protection)).verifiedBy(verifier);
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
