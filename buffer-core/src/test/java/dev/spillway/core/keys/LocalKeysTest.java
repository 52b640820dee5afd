package dev.spillway.core.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalKeysTest {
  @TempDir Path tmp;

  KeyContext ctx(long epoch) {
    byte[] stream = new byte[16];
    new SecureRandom().nextBytes(stream);
    return new KeyContext("q", stream, epoch);
  }

  @Test
  void init_writesPairOwnerOnly() throws Exception {
    LocalKeys.init(tmp.resolve("k"));
    for (String f : new String[] {LocalKeys.WRITER_FILE, LocalKeys.READER_FILE}) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("k").resolve(f))))
          .isEqualTo("rw-------");
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("k"))))
        .isEqualTo("rwx------");
    assertThat(Files.readString(tmp.resolve("k").resolve(LocalKeys.WRITER_FILE))).doesNotContain("PRIVATE");
  }

  @Test
  void init_existingPair_refusesToOverwrite() throws Exception {
    LocalKeys.init(tmp);
    assertThatThrownBy(() -> LocalKeys.init(tmp)).hasMessageContaining("already exists");
  }

  @Test
  void issue_thenUnwrap_givesSameKey() throws Exception {
    LocalKeys.init(tmp);
    DataKeyIssuer issuer = LocalKeys.issuer(tmp.resolve(LocalKeys.WRITER_FILE));
    DataKeyUnwrapper reader = LocalKeys.unwrapper(tmp.resolve(LocalKeys.READER_FILE));
    KeyContext c = ctx(1);
    IssuedDataKey k = issuer.issue(c);
    assertThat(reader.accepts(k.wrapped())).isTrue();
    assertThat(reader.unwrap(k.wrapped(), c).sameKeyAs(k.plaintext(), SecretAccess.insecure())).isTrue();
  }

  @Test
  void unwrap_otherContext_isRefused() throws Exception {
    LocalKeys.init(tmp);
    DataKeyIssuer issuer = LocalKeys.issuer(tmp.resolve(LocalKeys.WRITER_FILE));
    DataKeyUnwrapper reader = LocalKeys.unwrapper(tmp.resolve(LocalKeys.READER_FILE));
    KeyContext c = ctx(1);
    IssuedDataKey k = issuer.issue(c);
    KeyContext otherEpoch = new KeyContext(c.queue(), c.streamId(), 2);
    assertThatThrownBy(() -> reader.unwrap(k.wrapped(), otherEpoch)).isInstanceOf(KeyRefusedException.class);
    KeyContext otherQueue = new KeyContext("other", c.streamId(), 1);
    assertThatThrownBy(() -> reader.unwrap(k.wrapped(), otherQueue)).isInstanceOf(KeyRefusedException.class);
  }

  @Test
  void writer_givenPrivateKeyset_refusesToStart() throws Exception {
    LocalKeys.init(tmp);
    assertThatThrownBy(() -> LocalKeys.issuer(tmp.resolve(LocalKeys.READER_FILE)))
        .hasMessageContaining("not a public HPKE keyset");
  }

  @Test
  void reader_givenPublicKeyset_cannotOpen() throws Exception {
    LocalKeys.init(tmp);
    assertThatThrownBy(() -> LocalKeys.unwrapper(tmp.resolve(LocalKeys.WRITER_FILE)))
        .hasMessageContaining("not a private HPKE keyset");
  }

  @Test
  void rotate_oldEpochsStillUnwrap_newWriterUsesNewKey() throws Exception {
    LocalKeys.init(tmp);
    DataKeyIssuer before = LocalKeys.issuer(tmp.resolve(LocalKeys.WRITER_FILE));
    KeyContext c = ctx(1);
    IssuedDataKey old = before.issue(c);
    LocalKeys.rotate(tmp);
    DataKeyIssuer after = LocalKeys.issuer(tmp.resolve(LocalKeys.WRITER_FILE));
    IssuedDataKey fresh = after.issue(c);
    assertThat(fresh.wrapped().keyRef()).isNotEqualTo(old.wrapped().keyRef());
    DataKeyUnwrapper reader = LocalKeys.unwrapper(tmp.resolve(LocalKeys.READER_FILE));
    assertThat(reader.unwrap(old.wrapped(), c).sameKeyAs(old.plaintext(), SecretAccess.insecure())).isTrue();
    assertThat(reader.unwrap(fresh.wrapped(), c).sameKeyAs(fresh.plaintext(), SecretAccess.insecure())).isTrue();
  }

  @Test
  void passphraseProtected_readerKeyset_opensOnlyWithThePassphrase() throws Exception {
    KeysetProtection right = KeysetProtection.passphrase("correct horse battery".toCharArray());
    LocalKeys.init(tmp, right);
    Path reader = tmp.resolve(LocalKeys.READER_FILE);
    assertThat(LocalKeys.isEncrypted(reader)).isTrue();
    assertThat(Files.readString(reader)).doesNotContain("privateKey").doesNotContain("PRIVATE");
    DataKeyIssuer issuer = LocalKeys.issuer(tmp.resolve(LocalKeys.WRITER_FILE));
    KeyContext c = ctx(1);
    IssuedDataKey k = issuer.issue(c);
    DataKeyUnwrapper u = LocalKeys.unwrapper(reader, right);
    assertThat(u.unwrap(k.wrapped(), c).sameKeyAs(k.plaintext(), SecretAccess.insecure())).isTrue();
    assertThatThrownBy(() -> LocalKeys.unwrapper(reader, KeysetProtection.passphrase("wrong horse battery".toCharArray())))
        .hasMessageContaining("wrong passphrase");
    assertThatThrownBy(() -> LocalKeys.unwrapper(reader)).hasMessageContaining("is encrypted");
    // rotation keeps the protection
    LocalKeys.rotate(tmp, right);
    assertThat(LocalKeys.isEncrypted(reader)).isTrue();
    assertThat(LocalKeys.unwrapper(reader, right).unwrap(k.wrapped(), c).sameKeyAs(k.plaintext(), SecretAccess.insecure())).isTrue();
  }

  @Test
  void passphrase_tooShort_isRefused() {
    assertThatThrownBy(() -> KeysetProtection.passphrase("short".toCharArray())).hasMessageContaining("12 characters");
  }

  @Test
  void dataKey_isNotPrintable_andDestroyZeroes() {
    byte[] raw = new byte[32];
    raw[0] = 42;
    DataKey k = DataKey.adopt(raw, SecretAccess.insecure());
    assertThat(k.toString()).isEqualTo("DataKey[redacted]");
    k.destroy();
    assertThat(raw).containsOnly(0);
    assertThat(k.isDestroyed()).isTrue();
    assertThatThrownBy(() -> k.bytes(SecretAccess.insecure())).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anyOf_transientBeatsRefusal() throws Exception {
    LocalKeys.init(tmp);
    DataKeyIssuer issuer = LocalKeys.issuer(tmp.resolve(LocalKeys.WRITER_FILE));
    KeyContext c = ctx(1);
    IssuedDataKey k = issuer.issue(c);
    DataKeyUnwrapper flaky = new DataKeyUnwrapper() {
      @Override
      public boolean accepts(WrappedDataKey w) {
        return true;
      }

      @Override
      public DataKey unwrap(WrappedDataKey w, KeyContext x) throws KeyUnavailableException {
        throw new KeyUnavailableException("down");
      }
    };
    DataKeyUnwrapper refusing = new DataKeyUnwrapper() {
      @Override
      public boolean accepts(WrappedDataKey w) {
        return true;
      }

      @Override
      public DataKey unwrap(WrappedDataKey w, KeyContext x) throws KeyRefusedException {
        throw new KeyRefusedException("no");
      }
    };
    assertThatThrownBy(() -> DataKeyUnwrapper.anyOf(java.util.List.of(refusing, flaky)).unwrap(k.wrapped(), c))
        .isInstanceOf(KeyUnavailableException.class);
  }

  /** Writes key files like the real thing, but fails on the named file. */
  static LocalKeys.KeyFileWriter failingOn(String name) {
    return (file, content) -> {
      if (file.getFileName().toString().equals(name)) {
        throw new java.io.IOException("disk full (test) writing " + name);
      }
      dev.spillway.core.internal.PrivateFiles.writeAtomically(file, content);
    };
  }

  /** Issues with the writer files as they are, and checks the reader files open it. */
  static void assertWriterSealsToAKeyTheReaderHolds(Path dir) throws Exception {
    DataKeyIssuer issuer = LocalKeys.issuer(dir.resolve(LocalKeys.WRITER_FILE));
    DataKeyUnwrapper reader = LocalKeys.unwrapper(dir.resolve(LocalKeys.READER_FILE));
    byte[] stream = new byte[16];
    KeyContext c = new KeyContext("q", stream, 1);
    IssuedDataKey k = issuer.issue(c);
    assertThat(reader.unwrap(k.wrapped(), c).sameKeyAs(k.plaintext(), SecretAccess.insecure())).isTrue();
    byte[] statement = "key record".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(reader.verifier().verifies(issuer.signer().sign(statement), statement)).isTrue();
  }

  @Test
  void rotate_eachWriteFailing_neverPublishesAKeyWithoutItsPrivateHalf() throws Exception {
    for (String failing : new String[] {
        LocalKeys.READER_FILE, LocalKeys.VERIFIER_FILE, LocalKeys.SIGNER_FILE, LocalKeys.WRITER_FILE}) {
      Path dir = tmp.resolve("k-" + failing);
      LocalKeys.init(dir);
      String writerBefore = Files.readString(dir.resolve(LocalKeys.WRITER_FILE));
      assertThatThrownBy(() -> LocalKeys.rotate(dir, KeysetProtection.none(), failingOn(failing)))
          .hasMessageContaining(failing);
      assertThat(Files.readString(dir.resolve(LocalKeys.WRITER_FILE)))
          .as("the new public key is published last: untouched when %s fails", failing)
          .isEqualTo(writerBefore);
      assertWriterSealsToAKeyTheReaderHolds(dir);
      LocalKeys.rotate(dir); // running it again completes the rotation
      assertThat(Files.readString(dir.resolve(LocalKeys.WRITER_FILE))).isNotEqualTo(writerBefore);
      assertWriterSealsToAKeyTheReaderHolds(dir);
    }
  }

  @Test
  void rotate_keepsOldSigningKeysVerifiable() throws Exception {
    LocalKeys.init(tmp);
    KeyRecordSigner before = LocalKeys.signer(tmp.resolve(LocalKeys.SIGNER_FILE));
    byte[] statement = {1, 2, 3};
    byte[] oldSignature = before.sign(statement);
    LocalKeys.rotate(tmp);
    KeyRecordVerifier verifier = LocalKeys.verifier(tmp.resolve(LocalKeys.VERIFIER_FILE));
    assertThat(verifier.verifies(oldSignature, statement)).isTrue();
    assertThat(verifier.verifies(LocalKeys.signer(tmp.resolve(LocalKeys.SIGNER_FILE)).sign(statement), statement))
        .isTrue();
    assertThat(Files.readString(tmp.resolve(LocalKeys.VERIFIER_FILE))).doesNotContain("PRIVATE");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve(LocalKeys.SIGNER_FILE))))
        .isEqualTo("rw-------");
  }

  @Test
  void issuer_directoryWithoutSigningKey_isRefusedSayingHowToMigrate() throws Exception {
    LocalKeys.init(tmp);
    Files.delete(tmp.resolve(LocalKeys.SIGNER_FILE));
    Files.delete(tmp.resolve(LocalKeys.VERIFIER_FILE));
    assertThatThrownBy(() -> LocalKeys.issuer(tmp.resolve(LocalKeys.WRITER_FILE)))
        .hasMessageContaining(LocalKeys.SIGNER_FILE)
        .hasMessageContaining("keys rotate");
    assertThatThrownBy(() -> LocalKeys.unwrapper(tmp.resolve(LocalKeys.READER_FILE)))
        .hasMessageContaining(LocalKeys.VERIFIER_FILE)
        .hasMessageContaining("keys rotate");
    LocalKeys.rotate(tmp); // the migration: creates the signing pair
    assertWriterSealsToAKeyTheReaderHolds(tmp);
  }

  @Test
  void signer_givenThePublicVerifierFile_isRefused() throws Exception {
    LocalKeys.init(tmp);
    assertThatThrownBy(() -> LocalKeys.signer(tmp.resolve(LocalKeys.VERIFIER_FILE)))
        .hasMessageContaining("not a private Ed25519 signing keyset");
    assertThatThrownBy(() -> LocalKeys.verifier(tmp.resolve(LocalKeys.SIGNER_FILE)))
        .hasMessageContaining("not a public Ed25519 keyset");
  }
}
