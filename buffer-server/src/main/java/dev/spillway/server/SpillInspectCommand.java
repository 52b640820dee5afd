package dev.spillway.server;

import dev.spillway.core.QuarantineReason;
import dev.spillway.core.PayloadType;
import dev.spillway.server.receive.OtlpWire;
import dev.spillway.core.SpillInspection;
import dev.spillway.core.keys.DataKeyUnwrapper;
import dev.spillway.core.keys.KeyProviderId;
import dev.spillway.core.keys.WrappedDataKey;
import dev.spillway.core.keys.KeysetProtection;
import dev.spillway.core.keys.LocalKeys;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@code spill inspect}: public metadata of a spill directory, and with a reader key the
 * verification of every sealed batch (opened in memory and discarded; no payload is printed).
 * Exit 0 when the metadata was read (and, with a key, every batch opened); 1 when a key was given
 * that cannot open the spill or any batch failed.
 */
final class SpillInspectCommand {
  // With a reader key, prints the items each signal's opened batches hold (see ItemCounts).
  private final PrintStream out;
  private final PrintStream err;
  private final Function<String, String> env;

  SpillInspectCommand(PrintStream out, PrintStream err, Function<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  int run(Path dir, Optional<Path> readerKey, Optional<Path> passphraseFile, String queue) throws IOException {
    return run(dir, readerKey, passphraseFile, dev.spillway.core.keys.DeploymentId.UNNAMED, queue);
  }

  /** As {@link #run(Path, Optional, Optional, String)}, for a spill written under {@code deployment}. */
  int run(Path dir, Optional<Path> readerKey, Optional<Path> passphraseFile, dev.spillway.core.keys.DeploymentId deployment,
      String queue) throws IOException {
    DataKeyUnwrapper unwrapper = null;
    if (readerKey.isPresent()) {
      unwrapper = load(readerKey.get(), passphraseFile);
    } else if (passphraseFile.isPresent()) {
      err.println("--passphrase-file needs --reader-key");
      return Cli.USAGE;
    }
    ItemCounts items = new ItemCounts();
    SpillInspection.Report r = SpillInspection.inspect(dir, unwrapper, deployment, queue, items::add);
    long keyRecords = r.segments().stream().mapToLong(SpillInspection.Segment::keyRecords).sum();
    long sealedBytes = r.segments().stream().mapToLong(SpillInspection.Segment::sealedBytes).sum();
    out.printf(Locale.ROOT, "spill %s (queue '%s'): %d segment(s), %d key record(s), %d batch(es), %d sealed bytes%n",
        dir, queue, r.segments().size(), keyRecords, r.batches(), sealedBytes);
    out.println("committed position: " + (r.committed() < 0 ? "none" : "0x" + Long.toHexString(r.committed())));
    out.println("quarantine: " + r.quarantineBytes() + " bytes");
    for (SpillInspection.Segment s : r.segments()) {
      out.printf(Locale.ROOT, "segment %d %s: %d bytes allocated, %d key record(s), %d batch(es), %d sealed bytes%n",
          s.id(), s.file(), s.allocatedBytes(), s.keyRecords(), s.batches(), s.sealedBytes());
      for (SpillInspection.Epoch e : s.epochs()) {
        out.printf(Locale.ROOT, "  epoch stream=%s epoch=%d provider=%s key=%s started=%s%n",
            e.stream(), e.epoch(), e.provider(), e.keyRef(), Instant.ofEpochMilli(e.startedAtMillis()));
      }
    }
    boolean structural = false;
    if (r.metadataRecords() > 0) {
      err.println(r.metadataRecords() + " record(s) carry Chronicle's metadata bit and are skipped by every reader"
          + " (the segment file was edited)");
      structural = true;
    }
    if (r.unreadableSegments() > 0) {
      err.println(r.unreadableSegments() + " segment(s) cannot be read to the end (damaged or edited)");
      structural = true;
    }
    if (r.checkpointProblem() != null) {
      err.println("drain checkpoint: " + r.checkpointProblem());
      structural = true;
    }
    if (unwrapper == null) {
      if (r.failed() > 0) {
        // Records that do not even parse: visible without a key.
        out.println("unreadable records: " + reasons(r.failures()));
        return Cli.FAILED;
      }
      if (structural) {
        return Cli.FAILED;
      }
      out.println("not verified (give --reader-key to open and verify every batch)");
      return Cli.OK;
    }
    // What the opened batches hold, per signal: the figure spillway_items_spilled_total counts.
    out.println("items: " + items);
    if (r.verified()) {
      out.printf(Locale.ROOT, "verified: %d of %d batch(es) opened%n", r.opened(), r.batches());
      return Cli.OK;
    }
    StringBuilder m = new StringBuilder();
    m.append(String.format(Locale.ROOT, "verification FAILED: %d of %d batch(es) opened", r.opened(), r.batches()));
    if (r.failed() > 0) {
      m.append("; failed: ").append(reasons(r.failures()));
    }
    if (r.unavailable() > 0) {
      m.append("; key provider unavailable for ").append(r.unavailable());
    }
    if (r.missing() > 0) {
      m.append("; ").append(r.missing())
          .append(" record(s) missing from their writer streams (sequence gaps: deleted from the spill?)");
    }
    if (r.replayed() > 0) {
      m.append("; ").append(r.replayed())
          .append(" batch(es) at or below the drain's committed watermarks (drained records copied back: replays)");
    }
    if (structural) {
      m.append("; the spill's structure was edited or damaged (see above)");
    }
    if (r.failures().getOrDefault(QuarantineReason.FORGED_KEY, 0L) > 0) {
      m.append(". Key records without a valid signature by the keys in ")
          .append(LocalKeys.VERIFIER_FILE).append(" beside ").append(readerKey.get())
          .append(": another deployment's keys, another --queue or deployment id, or forged records");
    } else if (r.failures().getOrDefault(QuarantineReason.KEY_REFUSED, 0L) > 0) {
      if (heldEpochs(r, unwrapper) == 0) {
        m.append(". The reader key ").append(readerKey.get())
            .append(" holds none of the keys this spill was sealed with (another deployment's reader.json?)");
      } else {
        m.append(". The reader key holds the epochs' keys but they do not unwrap for queue '").append(queue)
            .append("' (another --queue?) or the key records were altered");
      }
    } else if (r.failures().containsKey(QuarantineReason.INTEGRITY)) {
      m.append(". Batches that fail authentication were altered, moved, or sealed for another queue (--queue)");
    }
    err.println(m);
    return Cli.FAILED;
  }

  private DataKeyUnwrapper load(Path readerKey, Optional<Path> passphraseFile) throws IOException {
    KeysetProtection protection = KeysetPassphrase.forReader(readerKey, passphraseFile, env,
        w -> err.println("warning: " + w));
    try {
      return LocalKeys.unwrapper(readerKey, protection);
    } catch (IOException e) {
      // LocalKeys says what is wrong with the file (never its bytes); add what it means here.
      throw new IOException("cannot verify the spill with --reader-key " + readerKey + ": " + e.getMessage()
          + " (the writer's public writer.json cannot open a spill; give the private reader.json)", e);
    }
  }

  /** How many epochs name a key (provider and key ref) that the given reader holds. */
  private static long heldEpochs(SpillInspection.Report r, DataKeyUnwrapper unwrapper) {
    return r.segments().stream().flatMap(s -> s.epochs().stream())
        .filter(e -> unwrapper.accepts(new WrappedDataKey(
            KeyProviderId.fromConfigName(e.provider()), e.keyRef(), new byte[1])))
        .count();
  }

  /** Items per signal in the opened batches, counted by scanning (the plaintext is not kept). */
  static final class ItemCounts {
    private final long[] items = new long[OtlpWire.Signal.values().length];
    private final long[] batches = new long[OtlpWire.Signal.values().length];
    private long uncountable;

    void add(PayloadType type, byte[] payload) {
      OtlpWire.Signal s = OtlpWire.Signal.of(type);
      try {
        items[s.ordinal()] += OtlpWire.count(type, payload);
        batches[s.ordinal()]++;
      } catch (OtlpWire.Refused e) {
        uncountable++;
      }
    }

    /** {@code traces 12 spans in 3 batch(es), metrics ..., logs ...}. */
    @Override
    public String toString() {
      StringBuilder b = new StringBuilder();
      for (OtlpWire.Signal s : OtlpWire.Signal.values()) {
        if (b.length() > 0) {
          b.append(", ");
        }
        b.append(String.format(Locale.ROOT, "%s %d %s in %d batch(es)", s.label(), items[s.ordinal()], s.items(),
            batches[s.ordinal()]));
      }
      if (uncountable > 0) {
        b.append(", ").append(uncountable).append(" batch(es) not valid OTLP");
      }
      return b.toString();
    }
  }

  private static String reasons(Map<QuarantineReason, Long> failures) {
    StringBuilder b = new StringBuilder();
    failures.forEach((reason, n) -> {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(reason.name().toLowerCase(Locale.ROOT)).append(' ').append(n);
    });
    return b.toString();
  }
}
