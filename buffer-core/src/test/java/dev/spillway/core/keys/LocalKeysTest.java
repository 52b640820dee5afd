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
}
