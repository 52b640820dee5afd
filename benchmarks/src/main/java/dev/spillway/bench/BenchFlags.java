package dev.spillway.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * The JVM flags every JMH fork appends: Chronicle Queue's {@code --add-opens/--add-exports} list
 * from the root pom ({@code spillway.jvm.flags.base}, filtered into the jar at build time), plus
 * what the root pom's {@code jdk23-plus} profile adds, decided by the JDK that runs the forks
 * rather than the one that built the jar.
 */
public final class BenchFlags {
  private BenchFlags() {}

  public static List<String> forkJvmArgs() {
    Properties p = new Properties();
    try (InputStream in = BenchFlags.class.getResourceAsStream("/spillway-bench.properties")) {
      if (in == null) {
        throw new IllegalStateException("spillway-bench.properties missing from the jar");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> flags = new ArrayList<>(Arrays.asList(p.getProperty("jvm.flags.base").trim().split("\\s+")));
    if (Runtime.version().feature() >= 23) {
      flags.add("--sun-misc-unsafe-memory-access=allow");
      flags.add("--enable-native-access=ALL-UNNAMED");
    }
    for (String prop : List.of("spillway.bench.dir", "spillway.bench.out")) {
      String v = System.getProperty(prop);
      if (v != null) {
        flags.add("-D" + prop + "=" + v);
      }
    }
    return flags;
  }
}
