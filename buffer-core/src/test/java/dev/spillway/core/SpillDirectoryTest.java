package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spill directory on its own: modes, the one-writer lock, and where things live. */
class SpillDirectoryTest {
  @TempDir Path tmp;

  @Test
  void createsOwnerOnlyDirectories_andNamesItsFiles() throws Exception {
    Path root = tmp.resolve("a/spill");
    try (SpillDirectory d = SpillDirectory.open(root, false, false)) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root))).isEqualTo("rwx------");
      assertThat(Files.isDirectory(d.queue())).isTrue();
      assertThat(d.drainCheckpoint()).isEqualTo(root.resolve("drain-checkpoint"));
      assertThat(d.quarantine().getParent()).isEqualTo(root);
      assertThat(d.holdsWriterLock()).isFalse();
    }
  }

  @Test
  void secondWriter_refusedNamingTheDirectory_readersNeverTakeTheLock_releasedOnClose() throws Exception {
    Path root = tmp.resolve("spill");
    try (SpillDirectory writer = SpillDirectory.open(root, false, true)) {
      assertThat(writer.holdsWriterLock()).isTrue();
      assertThatThrownBy(() -> SpillDirectory.open(root, false, true))
          .isInstanceOf(IOException.class)
          .hasMessageContaining(root.toString())
          .hasMessageContaining("writer.lock");
      try (SpillDirectory reader = SpillDirectory.open(root, false, false)) {
        assertThat(reader.holdsWriterLock()).isFalse();
      }
    }
    try (SpillDirectory again = SpillDirectory.open(root, false, true)) {
      assertThat(again.holdsWriterLock()).isTrue();
    }
  }
}
