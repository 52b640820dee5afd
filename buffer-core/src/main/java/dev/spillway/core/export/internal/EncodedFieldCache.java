package dev.spillway.core.export.internal;

import java.nio.charset.StandardCharsets;

/**
 * The encoded bytes (tag, length, UTF-8) of string fields whose {@code String} instances recur
 * from span to span: attribute keys ({@code AttributeKey}s are constants, or built from string
 * literals, which the JVM interns) and event names. Looked up by identity, so a hit costs the
 * string's cached hash and a comparison instead of a UTF-8 encoding and an allocation: a batch of 512
 * spans of 20 attributes encodes ~10,000 keys that are the same few dozen strings. Strings are
 * immutable, so an identity hit is always the right bytes. A miss replaces the slot's entry;
 * the table is small and direct-mapped, so keys made fresh per span only cost the miss.
 *
 * <p>Holds up to {@link #SLOTS} short strings and their encodings per writing thread. Not
 * thread-safe.
 */
final class EncodedFieldCache {
  private static final int SLOT_BITS = 9;
  static final int SLOTS = 1 << SLOT_BITS;
  /** Longer strings are encoded every time (they are unlikely to be keys). */
  static final int MAX_CHARS = 128;

  private final String[] strings = new String[SLOTS];
  private final int[] numbers = new int[SLOTS];
  private final byte[][] fields = new byte[SLOTS][];

  /** Tag, length and UTF-8 of {@code s} as field {@code number} (length-delimited). */
  byte[] field(int number, String s) {
    if (s.length() > MAX_CHARS) {
      return encode(number, s);
    }
    // String caches its hash in a field: cheaper than the identity hash, which the first profile
    // of this cache showed at 8 % of the mapping; the hit is still decided by identity
    int slot = (s.hashCode() * 0x9E3779B9) >>> (32 - SLOT_BITS);
    if (strings[slot] == s && numbers[slot] == number) {
      return fields[slot];
    }
    byte[] f = encode(number, s);
    strings[slot] = s;
    numbers[slot] = number;
    fields[slot] = f;
    return f;
  }

  private static byte[] encode(int number, String s) {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    int tag = (number << 3) | ProtoSink.LEN;
    int tagSize = ProtoSink.varintSize(tag);
    int lengthSize = ProtoSink.varintSize(utf8.length);
    byte[] f = new byte[tagSize + lengthSize + utf8.length];
    int p = putVarint(f, 0, tag);
    p = putVarint(f, p, utf8.length);
    System.arraycopy(utf8, 0, f, p, utf8.length);
    return f;
  }

  private static int putVarint(byte[] b, int p, int v) {
    while ((v & ~0x7f) != 0) {
      b[p++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    b[p++] = (byte) v;
    return p;
  }
}
