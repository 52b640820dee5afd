package dev.spillway.core.keys.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.keys.KeyContext;
import dev.spillway.core.internal.seal.EnvelopeFormat;
import dev.spillway.core.internal.seal.OpenedBatch;
import dev.spillway.core.internal.seal.Opener;
import dev.spillway.core.internal.seal.SealedBatch;
import dev.spillway.core.internal.seal.SealedRecord;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;

/** Helpers to seal and open batches through the real Sealer and Opener. */
final class Batches {
  private Batches() {}

  static final String QUEUE = "orders";

  static byte[] payload(int i) {
    return ("PLAINTEXT-SPAN-" + i + " http.url=/checkout user=alice").repeat(8).getBytes(StandardCharsets.UTF_8);
  }

  static KeyContext context(long epoch) {
    byte[] stream = new byte[KeyContext.STREAM_ID_BYTES];
    new SecureRandom().nextBytes(stream);
    return new KeyContext(QUEUE, stream, epoch);
  }

  /** Opens every batch (key records first, as a segment would hold them) and checks payloads. */
  static void openAll(Opener opener, List<SealedBatch> batches, List<Integer> payloadIds) throws Exception {
    for (int i = 0; i < batches.size(); i++) {
      SealedBatch b = batches.get(i);
      opener.accept(b.keyRecord());
      SealedRecord record = (SealedRecord) EnvelopeFormat.parse(b.bytes());
      OpenedBatch opened = opener.open(record);
      assertThat(opened.payload()).isEqualTo(payload(payloadIds.get(i)));
    }
  }

  static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
