package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.internal.seal.TestKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CrossProcessTest {
  @TempDir Path tmp;

  @Test
  void oneProcessAppends_anotherDrains_inOrder() throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path dir = tmp.resolve("spill");
    int n = 600;
    try (SpillReader reader =
        SpillBuffer.builder().directory(dir).readerKeys(keys.unwrapper()).buildReader()) {
      Process child =
          new ProcessBuilder(SpillFixtures.javaCommand(SpillChild.class, "write", dir.toString(),
                  keys.dir().toString(), "0", Integer.toString(n)))
              .redirectErrorStream(true)
              .redirectOutput(tmp.resolve("child.log").toFile())
              .start();
      List<Long> got = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (got.size() < n && System.nanoTime() < deadline) {
        Delivery d = reader.poll(Duration.ofMillis(200));
        if (d != null) {
          got.add(SpillFixtures.idOf(d.payload()));
          d.ack();
        }
      }
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(child.exitValue()).as(Files.readString(tmp.resolve("child.log"))).isZero();
      assertThat(got).isEqualTo(LongStream.range(0, n).boxed().toList());
    }
  }

  @Test
  void chronicleAnalytics_staysOff_withoutTheJvmFlag() throws Exception {
    TestKeys keys = TestKeys.in(tmp.resolve("keys"));
    Path home = tmp.resolve("home");
    Files.createDirectories(home);
    List<String> cmd = new ArrayList<>(SpillFixtures.javaCommand(SpillChild.class, "touch",
        tmp.resolve("spill").toString(), keys.dir().toString()));
    cmd.removeIf(a -> a.startsWith("-Dchronicle.analytics"));
    cmd.add(1, "-Duser.home=" + home);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("touch.log").toFile());
    pb.environment().put("HOME", home.toString());
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = Files.readString(tmp.resolve("touch.log"));
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains("DONE").doesNotContain("google-analytics").doesNotContain("analytics.client.id");
    try (var files = Files.walk(home)) {
      assertThat(files.filter(Files::isRegularFile).toList()).as("files written into the home directory").isEmpty();
    }
  }
}
