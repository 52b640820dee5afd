package dev.spillway.server.audit;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Collectors;

/** Shared helpers: fixture paths, a fixture machine (mounts, clock) and compact outcome lists. */
final class AuditTesting {

  private AuditTesting() {}

  static Path fixture(String relative) {
    URL url = AuditTesting.class.getResource("/audit/" + relative);
    if (url == null) {
      throw new IllegalArgumentException("no fixture " + relative);
    }
    try {
      return Paths.get(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The fixture machine: /proc/mounts and /sys/block copies, a real clock, short probe timeouts. */
  static Audit.Environment fixtureEnvironment() {
    return fixtureEnvironment(Clock.systemUTC());
  }

  static Audit.Environment fixtureEnvironment(Clock clock) {
    return new Audit.Environment(
        new SpillMount(fixture("mounts/proc-mounts"), fixture("mounts/sys-block")),
        clock, Duration.ofSeconds(3), Duration.ofSeconds(1));
  }

  /**
   * A CI machine: the fixture mount table, but a directory a configuration names is judged only if
   * it exists here, as on the real command.
   */
  static Audit.Environment ciEnvironment() {
    return new Audit.Environment(
        new SpillMount(fixture("mounts/proc-mounts"), fixture("mounts/sys-block")),
        Clock.systemUTC(), Duration.ofSeconds(3), Duration.ofSeconds(1),
        p -> java.nio.file.Files.exists(Paths.get(p)), "ci-host");
  }

  static Clock fixedClock(String instant) {
    return Clock.fixed(Instant.parse(instant), ZoneOffset.UTC);
  }

  static Audit.Result audit(Path... files) {
    return new Audit(fixtureEnvironment()).run(Arrays.asList(files), List.of(), EnumSet.noneOf(Rule.class));
  }

  static Audit.Result auditFixtures(String... relative) {
    return audit(Arrays.stream(relative).map(AuditTesting::fixture).toArray(Path[]::new));
  }

  /** Findings as sorted "RULE-ID:severity" strings: the exact outcome a test asserts. */
  static List<String> outcomes(Audit.Result r) {
    List<String> out = new ArrayList<>();
    for (Finding f : r.findings()) {
      out.add(f.rule().id() + ":" + f.severity().label());
    }
    Collections.sort(out);
    return out;
  }

  /** Parses "A:fail B:warn" (any order, blank for none) into the sorted form of {@link #outcomes}. */
  static List<String> expected(String spaceSeparated) {
    if (spaceSeparated == null || spaceSeparated.isBlank()) {
      return List.of();
    }
    return Arrays.stream(spaceSeparated.trim().split("\\s+")).sorted().collect(Collectors.toList());
  }

  /** Runs the command in-process with the fixture machine; returns exit code, stdout, stderr. */
  static CommandRun command(Audit.Environment env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = AuditCommand.run(args, o, e, env, false);
    }
    return new CommandRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  record CommandRun(int exitCode, String out, String err) {}
}
