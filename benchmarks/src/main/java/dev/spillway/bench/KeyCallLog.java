package dev.spillway.bench;

import dev.spillway.core.RotationPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * Counts key-provider calls against data-key epochs, per benchmark trial, for the target "one
 * key-provider call per DEK epoch". Each trial appends one line to {@code keycalls.tsv} in
 * {@code -Dspillway.bench.out} (the suite sets it); without the property nothing is written.
 */
public final class KeyCallLog {
  /**
   * The rotation policy of every sealing benchmark: the shipped defaults except a 1 GiB epoch
   * (instead of 64 GiB), so a run of a few minutes crosses several epochs and the count says
   * something.
   */
  public static final RotationPolicy POLICY =
      new RotationPolicy(Duration.ofHours(1), RotationPolicy.DEFAULT_MAX_RECORDS, 1L << 30);

  public static final String FILE = "keycalls.tsv";

  private KeyCallLog() {}

  /**
   * @param batches batches sealed in the trial (warm-up included)
   * @param epochs data-key epochs those batches used
   * @param providerCalls calls to the key provider (issue for Spillway, remote encrypt for the
   *     one-KMS-call-per-batch baseline)
   */
  public static synchronized void record(String benchmark, int batch, long batches, long epochs, long providerCalls) {
    String out = System.getProperty("spillway.bench.out");
    if (out == null) {
      return;
    }
    String line = benchmark + "\t" + batch + "\t" + batches + "\t" + epochs + "\t" + providerCalls + "\n";
    try {
      Path dir = Path.of(out);
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(FILE), line, StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
