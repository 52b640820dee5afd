package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line on picocli: help on every command, completion, version, usage errors. */
class CliHelpTest {
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @ValueSource(strings = {"serve", "keys", "keys init", "keys rotate", "certs dev", "config validate", "spill inspect", "version"})
  void help_onEveryCommand_printsItsUsageAndExitsZero(String command) {
    String[] args = (command + " --help").split(" ");
    assertThat(run(args)).as(err()).isZero();
    assertThat(out()).startsWith("Usage: spillway " + command);
  }

  @Test
  void serveHelp_listsTheQuickStartPorts() {
    assertThat(run("serve", "--help")).isZero();
    assertThat(out()).contains("--grpc-port=PORT").contains("--http-port=PORT").contains("--metrics-port=PORT")
        .contains("--role=ROLE");
  }

  @Test
  void version_endsWithANewline() {
    assertThat(run("version")).isZero();
    assertThat(out()).startsWith("spillway ").endsWith("\n");
    out.reset();
    assertThat(run("--version")).isZero();
    assertThat(out()).startsWith("spillway ").endsWith("\n");
  }

  @Test
  void generateCompletion_printsABashScriptCoveringSubcommands() {
    assertThat(run("generate-completion")).isZero();
    assertThat(out()).contains("complete -F").contains("serve").contains("spill").contains("--grpc-port");
  }

  @Test
  void usageErrors_exitTwoNamingTheProblem() {
    assertThat(run("serve", "--bogus")).isEqualTo(2);
    assertThat(err()).contains("Unknown option: '--bogus'");
    err.reset();
    assertThat(run("config", "validate")).isEqualTo(2);
    assertThat(err()).contains("Missing required option: '--config=FILE'");
    err.reset();
    assertThat(run("keys")).isEqualTo(2);
    assertThat(err()).contains("Usage: spillway keys");
    err.reset();
    assertThat(run("serve", "--role", "sideways", "--config", "/nonexistent.yaml")).isEqualTo(2);
    assertThat(err()).contains("--role must be ingest, drain or both");
  }
}
