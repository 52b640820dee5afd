package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.DeploymentId;
import dev.spillway.core.internal.seal.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #13: a spill copied from deployment A into deployment B that shares A's key pair (a
 * Kubernetes DaemonSet with one Secret) is not delivered by B, through real Chronicle files.
 */
class DeploymentCopyTest {
  @TempDir Path tmp;

  @Test
  void poll_segmentsCopiedFromAnotherDeploymentWithTheSameKeys_quarantinedNotDelivered() throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path a = tmp.resolve("node-a");
    try (SpillBuffer buffer = SpillFixtures.builder(a, keys).deploymentId(DeploymentId.of("node-a"))
        .durability(Durability.DURABLE).build()) {
      for (long id = 0; id < 5; id++) {
        assertThat(buffer.offer(PayloadType.OTLP_TRACES, SpillFixtures.payload(id, 200)).accepted()).isTrue();
      }
    }
    Path b = tmp.resolve("node-b");
    copyTree(a, b);
    try (SpillBuffer buffer = SpillFixtures.builder(b, keys).deploymentId(DeploymentId.of("node-b")).build()) {
      assertThat(SpillFixtures.drain(buffer, 1, Duration.ofSeconds(3))).isEmpty();
      assertThat(buffer.metrics().quarantined()).isPositive();
      assertThat(buffer.metrics().delivered()).isZero();
    }
    // The same copy under the right deployment is delivered: the refusal is the deployment's doing.
    Path a2 = tmp.resolve("node-a-again");
    copyTree(a, a2);
    try (SpillBuffer buffer = SpillFixtures.builder(a2, keys).deploymentId(DeploymentId.of("node-a")).build()) {
      assertThat(SpillFixtures.drain(buffer, 5, Duration.ofSeconds(10))).containsExactly(0L, 1L, 2L, 3L, 4L);
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else if (!f.getFileName().toString().endsWith(".lock")) {
          Files.copy(f, target);
        }
      }
    }
  }
}
