package dev.spillway.server.audit;

import static dev.spillway.server.audit.AuditTesting.fixture;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The dm-crypt decision against fixture copies of /proc/mounts and /sys/block. */
class SpillMountTest {

  private final SpillMount mounts = new SpillMount(fixture("mounts/proc-mounts"), fixture("mounts/sys-block"));

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "/var/lib/spillway/spill, ENCRYPTED, /var/lib/spillway/spill",
      "/var/lib/spillway/spill/segments/0001, ENCRYPTED, /var/lib/spillway/spill",
      "/var/lib/spillway/spill/shadowed/x, PLAIN, /var/lib/spillway/spill/shadowed",
      "/var/lib/spillway/spillover, PLAIN, /",
      "/srv/lvm-on-luks/spill, ENCRYPTED, /srv/lvm-on-luks",
      "/srv/plain-lvm/spill, PLAIN, /srv/plain-lvm",
      "/var/otel/buffer, ENCRYPTED, /var/otel/buffer",
      "/var/lib/otelcol/file_storage, PLAIN, /var/lib/otelcol",
      "/run/spillway, MEMORY, /run",
      "/var/lib/overlay/spill, UNKNOWN, /var/lib/overlay",
      "/mnt/with space/spill, ENCRYPTED, /mnt/with space",
  })
  void inspect_fixtureDirectory_givesVerdict(String dir, SpillMount.Kind kind, String mountPoint) {
    SpillMount.Verdict v = mounts.inspect(dir);
    assertThat(v.kind()).as(v.detail()).isEqualTo(kind);
    assertThat(v.mountPoint()).isEqualTo(mountPoint);
  }

  @Test
  void inspect_lvmOnLuks_namesTheChain() {
    assertThat(mounts.inspect("/srv/lvm-on-luks").detail())
        .isEqualTo("dm-crypt: dm-1(vg-data) LVM-Xk3nVbQmWq0aZ7cH1sR8tY2uI4oP6lE9dF5gJ0hK1mN2bV3cX4zA5sD6fG7hJ8kL"
            + " -> dm-2(luks-pv) CRYPT-LUKS2");
  }

  @Test
  void inspect_unreadableMountTable_isUnknown(@TempDir Path dir) {
    SpillMount none = new SpillMount(dir.resolve("no-such-mounts"), dir);
    assertThat(none.inspect("/var/lib/spillway").kind()).isEqualTo(SpillMount.Kind.UNKNOWN);
  }

  @Test
  void unescape_octalEscapes_decoded() {
    assertThat(SpillMount.unescape("/mnt/a\\040b\\134c")).isEqualTo("/mnt/a b\\c");
    assertThat(SpillMount.unescape("/plain\\04")).isEqualTo("/plain\\04");
  }
}
