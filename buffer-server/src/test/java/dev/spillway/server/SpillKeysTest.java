package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.core.BufferObserver;
import dev.spillway.core.Delivery;
import dev.spillway.core.keys.LocalKeys;
import dev.spillway.server.config.ServerConfig;
import dev.spillway.server.testing.TestConfigs;
import dev.spillway.server.testing.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Local key configuration end to end: keys init/rotate, protected keysets, previous keysets, roles. */
class SpillKeysTest {
  static final String PASS = "a passphrase of decent length";

  @TempDir Path dir;
  TestPki pki;
  final ByteArrayOutputStream out = new ByteArrayOutputStream();

  @BeforeEach
  void setUp() throws Exception {
    pki = new TestPki(dir.resolve("pki"));
  }

  private int cli(String... args) {
    out.reset();
    PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
    return Main.run(args, p, p);
  }

  private Path passphraseFile() throws IOException {
    Path pass = dir.resolve("pass");
    Files.writeString(pass, PASS + "\n");
    Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
    return pass;
  }

  private ServerConfig config(String keysBlock) throws Exception {
    return TestConfigs.load(dir, TestConfigs.daemon(pki, dir.resolve("spill"), keysBlock, "", 1 << 20));
  }

  private static BufferOpener.Opened open(ServerConfig c, Role role, Map<String, String> env) throws IOException {
    return BufferOpener.spillBuffer(env::get).open(c.buffer(), role, BufferObserver.NOOP);
  }

  @Test
  void keysInit_withPassphraseFile_writesAnEncryptedReaderKeyset_thatOpensOnlyWithThePassphrase() throws Exception {
    Path keys = dir.resolve("keys");
    assertThat(cli("keys", "init", "--out", keys.toString(), "--passphrase-file", passphraseFile().toString())).isZero();
    assertThat(LocalKeys.isEncrypted(keys.resolve("reader.json"))).isTrue();
    assertThat(Files.readString(keys.resolve("reader.json"))).doesNotContain(PASS);

    String block = TestConfigs.localKeys(keys.resolve("writer.json"), keys.resolve("reader.json"));
    // no passphrase anywhere: refused
    assertThatThrownBy(() -> open(config(block), Role.BOTH, Map.of()))
        .hasMessageContaining("is encrypted: give its passphrase");
    // from the environment
    BufferOpener.Opened viaEnv = open(config(block), Role.BOTH, Map.of(KeysetPassphrase.ENV, PASS));
    viaEnv.close().run();
    // from the configured file
    BufferOpener.Opened viaFile = open(config(block + "      reader_keyset_passphrase_file: " + passphraseFile() + "\n"),
        Role.BOTH, Map.of());
    viaFile.close().run();
    // a wrong one
    assertThatThrownBy(() -> open(config(block), Role.BOTH, Map.of(KeysetPassphrase.ENV, "not the right passphrase")))
        .hasMessageContaining("wrong passphrase");
  }

  @Test
  void keysRotate_newEpochsUseTheNewKey_andTheRotatedReaderStillOpensOldOnes() throws Exception {
    Path keys = dir.resolve("keys");
    assertThat(cli("keys", "init", "--out", keys.toString())).isZero();
    String writerBefore = Files.readString(keys.resolve("writer.json"));
    SpillInspectTest.writeSpill(dir.resolve("old"), keys, 2);
    assertThat(cli("keys", "rotate", "--dir", keys.toString())).isZero();
    assertThat(Files.readString(keys.resolve("writer.json"))).isNotEqualTo(writerBefore);
    SpillInspectTest.writeSpill(dir.resolve("new"), keys, 2);

    assertThat(cli("spill", "inspect", "--dir", dir.resolve("old").toString(),
        "--reader-key", keys.resolve("reader.json").toString())).as(out::toString).isZero();
    String oldKey = keyRef(out.toString(StandardCharsets.UTF_8));
    assertThat(cli("spill", "inspect", "--dir", dir.resolve("new").toString(),
        "--reader-key", keys.resolve("reader.json").toString())).as(out::toString).isZero();
    assertThat(keyRef(out.toString(StandardCharsets.UTF_8))).isNotEqualTo(oldKey);
  }

  private static String keyRef(String report) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("key=(local:\\d+)").matcher(report);
    assertThat(m.find()).as(report).isTrue();
    return m.group(1);
  }

  @Test
  void previousReaderKeysets_openEpochsOfTheOldDeploymentAfterAMoveToNewKeys() throws Exception {
    Path oldKeys = dir.resolve("old-keys");
    Path newKeys = dir.resolve("new-keys");
    LocalKeys.init(oldKeys);
    LocalKeys.init(newKeys);
    SpillInspectTest.writeSpill(dir.resolve("spill"), oldKeys, 3);

    ServerConfig withoutOld = config(TestConfigs.localKeys(null, newKeys.resolve("reader.json")));
    BufferOpener.Opened r = open(withoutOld, Role.DRAIN, Map.of());
    try {
      assertThat(r.reader().orElseThrow().poll(Duration.ofSeconds(2))).isNull(); // refused: quarantined
      assertThat(r.metrics().get().quarantined()).isEqualTo(3);
    } finally {
      r.close().run();
    }

    SpillInspectTest.writeSpill(dir.resolve("spill2"), oldKeys, 3);
    ServerConfig withOld = TestConfigs.load(dir, TestConfigs.daemon(pki, dir.resolve("spill2"),
        TestConfigs.localKeys(null, newKeys.resolve("reader.json"))
            + "      previous_reader_keysets: [" + oldKeys.resolve("reader.json") + "]\n", "", 1 << 20));
    r = open(withOld, Role.DRAIN, Map.of());
    try {
      for (int i = 0; i < 3; i++) {
        Delivery d = r.reader().orElseThrow().poll(Duration.ofSeconds(10));
        assertThat(d).as("batch %d", i).isNotNull();
        d.ack();
      }
    } finally {
      r.close().run();
    }
  }

  @Test
  void ingest_configuredWithAnyReaderKeyMaterial_refusesToStart() throws Exception {
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    ServerConfig readerOnly = config(TestConfigs.localKeys(null, keys.resolve("reader.json")));
    assertThatThrownBy(() -> Daemon.start(readerOnly, Role.INGEST, BufferOpener.spillBuffer()))
        .hasMessageContaining("role ingest must not be given reader key material");
    ServerConfig both = config(TestConfigs.localKeys(keys.resolve("writer.json"), keys.resolve("reader.json")));
    assertThatThrownBy(() -> Daemon.start(both, Role.INGEST, BufferOpener.spillBuffer()))
        .hasMessageContaining("role ingest must not be given reader key material");
    // the private keyset given as the writer's: refused by LocalKeys, never loaded as a writer
    ServerConfig swapped = config(TestConfigs.localKeys(keys.resolve("reader.json"), null));
    assertThatThrownBy(() -> Daemon.start(swapped, Role.INGEST, BufferOpener.spillBuffer()))
        .hasMessageContaining("is not a public HPKE keyset");
    // and nothing was left listening or locked: a correct ingest starts on the same directory
    ServerConfig writerOnly = config(TestConfigs.localKeys(keys.resolve("writer.json"), null));
    try (Daemon d = Daemon.start(writerOnly, Role.INGEST, BufferOpener.spillBuffer())) {
      assertThat(d.ready()).isTrue();
      assertThat(d.grpcPort()).isPositive();
    }
  }

  @Test
  void drain_withoutAReaderKey_refusesToStart() throws Exception {
    Path keys = dir.resolve("keys");
    LocalKeys.init(keys);
    ServerConfig writerOnly = config(TestConfigs.localKeys(keys.resolve("writer.json"), null));
    assertThatThrownBy(() -> Daemon.start(writerOnly, Role.DRAIN, BufferOpener.spillBuffer()))
        .hasMessageContaining("reader_keyset is required for role drain");
  }
}
