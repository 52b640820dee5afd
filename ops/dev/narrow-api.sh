#!/usr/bin/env bash
# Narrows buffer-core's public API (issue 18, "A narrow public API"). Run once, from anywhere in the
# repository, on a clean tree:  ops/dev/narrow-api.sh
#
# What it does (re-running it on an already converted tree changes nothing):
#  1. seal -> dev.spillway.core.internal.seal, spill -> dev.spillway.core.internal.spill (main and
#     test sources, git mv), every import and fully-qualified name in all modules and the docs.
#  2. PayloadType and RotationPolicy move up into the API package dev.spillway.core; the quarantine
#     reason becomes the public enum dev.spillway.core.QuarantineReason (was EnvelopeException.Reason);
#     the compression choice becomes the public enum dev.spillway.core.Compression, while the codec
#     implementation (internal.seal.Codec) stays internal and is chosen with Codec.of(Compression).
#  3. package-info.java for the API package and for both internal packages.
# It works by package-wide rewrites (names and imports), not per-file patches, so edits made to the
# moved files meanwhile survive. Afterwards it prints what still mentions the old packages (should be
# nothing) and the compile command to check the result.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

CORE=buffer-core/src/main/java/dev/spillway/core
CORE_TEST=buffer-core/src/test/java/dev/spillway/core

move_package() { # $1 = old leaf (seal|spill), for main and test sources
  local leaf=$1 root
  for root in buffer-core/src/main/java/dev/spillway/core buffer-core/src/test/java/dev/spillway/core; do
    if [ -d "$root/$leaf" ]; then
      mkdir -p "$root/internal/$leaf"
      local f
      for f in "$root/$leaf"/*; do
        git mv "$f" "$root/internal/$leaf/"
      done
      rmdir "$root/$leaf" 2>/dev/null || true
    fi
  done
}
move_package seal
move_package spill

# The two value types users put in signatures move up into the API package.
for t in PayloadType RotationPolicy; do
  if [ -f "$CORE/internal/seal/$t.java" ]; then
    git mv "$CORE/internal/seal/$t.java" "$CORE/$t.java"
  fi
done

python3 - "$CORE" <<'PY'
import pathlib, re, sys

core = pathlib.Path(sys.argv[1])
root = pathlib.Path('.')

# ---- QuarantineReason: the enum nested in EnvelopeException becomes a public API type ----------
EXPECTED_REASONS = ['MALFORMED', 'UNSUPPORTED_VERSION', 'INTEGRITY', 'KEY_REFUSED', 'OUT_OF_ORDER',
                    'FORGED_KEY']
exc = core / 'internal/seal/EnvelopeException.java'
src = exc.read_text()
m = re.search(r'\n(\s*/\*\*(?:(?!\*/).)*?\*/\s*)?public enum Reason \{', src, re.S)
if m:
  start = m.start()
  i = src.index('{', m.end() - 1)
  depth = 0
  for j in range(i, len(src)):
    if src[j] == '{':
      depth += 1
    elif src[j] == '}':
      depth -= 1
      if depth == 0:
        break
  body = src[i + 1:j]
  names = re.findall(r'^\s*([A-Z][A-Z0-9_]*)\s*[,;]?\s*$', re.sub(r'/\*.*?\*/', '', body, flags=re.S), re.M)
  # Quarantine files store the ordinal: the public enum must keep exactly this order.
  if names != EXPECTED_REASONS:
    sys.exit('EnvelopeException.Reason is now %s, QuarantineReason in this script has %s: update the '
             'script (ordinals are written to quarantine files)' % (names, EXPECTED_REASONS))
  src = src[:start] + src[j + 1:]
  exc.write_text(src)

qr = core / 'QuarantineReason.java'
if not qr.exists():
  qr.write_text('''package dev.spillway.core;

/**
 * Why a spilled record could not be opened and was quarantined; passed to
 * {@link BufferObserver#onQuarantine} and used as a metric label. Retrying does not fix any of them.
 *
 * <p>The ordinal is written to quarantine files: never reorder or remove a constant, only append.
 */
public enum QuarantineReason {
  /** Not a Spillway record, truncated, or lengths that do not add up. */
  MALFORMED,
  /** Written by a newer format version than this reader knows. */
  UNSUPPORTED_VERSION,
  /** Authentication failed: tampered, moved to another queue or position, or wrong key. */
  INTEGRITY,
  /** No key record for the record's epoch, or the key provider refused the wrapped key. */
  KEY_REFUSED,
  /**
   * A sequence number at or below one already accepted from the same stream (also after a
   * restart, from the persisted stream watermarks), or an old record of a retired stream:
   * replayed or reordered.
   */
  OUT_OF_ORDER,
  /**
   * The epoch's key record has no valid writer signature: forged with the public key alone,
   * altered, or from another deployment or queue.
   */
  FORGED_KEY
}
''')

comp = core / 'Compression.java'
if not comp.exists():
  comp.write_text('''package dev.spillway.core;

import dev.spillway.core.internal.seal.Codec;

/**
 * Compression applied to a batch before it is sealed. Compressing before encrypting leaks the
 * compressed length (the CRIME family): docs/ENVELOPE.md weighs that against the disk throughput
 * it buys; {@link #NONE} turns it off.
 */
public enum Compression {
  /** Stored as given. */
  NONE,
  /** LZ4 block format: the default, fast on both sides. */
  LZ4,
  /** One zstd frame, level 1: about a third fewer bytes than LZ4 for about twice its CPU. */
  ZSTD;

  /**
   * Parses a configuration value: none, lz4 or zstd.
   *
   * @throws IllegalArgumentException for an unknown name, or zstd where its native library cannot
   *     load (another platform, a noexec temporary directory)
   */
  public static Compression fromConfigName(String name) {
    return Codec.fromConfigName(name).compression();
  }
}
''')

codec = core / 'internal/seal/Codec.java'
src = codec.read_text()
if 'static Codec of(Compression' not in src:
  anchor = src.index('  public static Codec fromConfigName(')
  anchor = src.rindex('  /**', 0, anchor)
  src = src[:anchor] + '''  /** The implementation of a compression chosen through the public API. */
  public static Codec of(Compression compression) {
    return switch (compression) {
      case NONE -> NONE;
      case LZ4 -> LZ4;
      case ZSTD -> ZSTD;
    };
  }

  /** The public API's name for this codec. */
  public Compression compression() {
    return switch (this) {
      case NONE -> Compression.NONE;
      case LZ4 -> Compression.LZ4;
      case ZSTD -> Compression.ZSTD;
    };
  }

''' + src[anchor:]
  codec.write_text(src)

# PayloadType.fromCode is read by the envelope parser, now in another package.
pt = core / 'PayloadType.java'
src = pt.read_text()
src = re.sub(r'\n  static PayloadType fromCode', '\n  /** The type with this on-disk code, or null. Used by the envelope parser. */\n  public static PayloadType fromCode', src)
pt.write_text(src)

# ---- package-wide rewrites in every module ---------------------------------------------------------
API_MOVED = ['PayloadType', 'RotationPolicy']
API_NEW = {'PayloadType': 'dev.spillway.core.PayloadType',
           'RotationPolicy': 'dev.spillway.core.RotationPolicy',
           'QuarantineReason': 'dev.spillway.core.QuarantineReason',
           'Compression': 'dev.spillway.core.Compression',
           'Codec': 'dev.spillway.core.internal.seal.Codec'}

def rewrite_names(s):
  s = re.sub(r'dev\.spillway\.core\.(?:internal\.)?seal\.EnvelopeException\.Reason\b', 'dev.spillway.core.QuarantineReason', s)
  s = re.sub(r'\bEnvelopeException\.Reason\b', 'QuarantineReason', s)
  for t in API_MOVED:
    s = re.sub(r'dev\.spillway\.core\.(?:internal\.)?seal\.' + t + r'\b', 'dev.spillway.core.' + t, s)
  s = re.sub(r'dev\.spillway\.core\.(seal|spill)\b', r'dev.spillway.core.internal.\1', s)
  s = re.sub(r'dev/spillway/core/(seal|spill)/', r'dev/spillway/core/internal/\1/', s)
  return s

def strip_comments_and_imports(s):
  s = re.sub(r'/\*.*?\*/', '', s, flags=re.S)
  s = re.sub(r'//[^\n]*', '', s)
  s = re.sub(r'"(?:\\.|[^"\\])*"', '""', s)
  return re.sub(r'^\s*(?:package|import)\s[^\n]*', '', s, flags=re.M)

def fix_imports(s):
  pm = re.search(r'^package\s+([\w.]+);', s, re.M)
  if not pm:
    return s
  pkg = pm.group(1)
  code = strip_comments_and_imports(s)
  # Drop our own imports that are now same-package or unused (EnvelopeException after the Reason move).
  def keep(m):
    fq = m.group(1)
    simple = fq.rsplit('.', 1)[1]
    if fq.rsplit('.', 1)[0] == pkg:
      return ''
    if simple != '*' and not re.search(r'\b' + simple + r'\b', code):
      return ''
    return m.group(0)
  s = re.sub(r'^import (dev\.spillway\.core\.[\w.]+);\n', keep, s, flags=re.M)
  # Add imports for the types that changed package.
  for simple, fq in API_NEW.items():
    if fq.rsplit('.', 1)[0] == pkg or not re.search(r'(?<![.\w])' + simple + r'\b', code):
      continue
    if re.search(r'^import ' + re.escape(fq) + ';', s, re.M):
      continue
    if re.search(r'\b(?:class|enum|interface|record)\s+' + simple + r'\b', s):
      continue  # a type of that name declared here
    if re.search(r'^import [\w.]+\.' + simple + ';', s, re.M):
      continue  # another type of that name imported
    if pkg not in ('dev.spillway.core', 'dev.spillway.core.internal.seal') and simple == 'Codec':
      # only files that used the seal package (star or FQ) can mean our Codec
      if 'dev.spillway.core.internal.seal' not in s:
        continue
    if simple == 'Compression' and not re.search(r'\bCompression\.', code) and not re.search(r'\bCompression\s+\w', code):
      continue
    imports = list(re.finditer(r'^import [^\n]*\n', s, re.M))
    line = 'import ' + fq + ';\n'
    if imports:
      s = s[:imports[0].start()] + line + s[imports[0].start():]
    else:
      s = s[:pm.end()] + '\n\n' + line.rstrip('\n') + s[pm.end():]
  return s

java = [p for p in root.glob('*/src/**/*.java')]
for p in java:
  s0 = p.read_text()
  s = rewrite_names(s0)
  s = re.sub(r'^package dev\.spillway\.core\.internal\.seal;(?=[\s\S]*\b(?:enum PayloadType|record RotationPolicy)\b)',
             'package dev.spillway.core;', s, flags=re.M) if p.parent.name == 'core' else s
  if p.parent.name == 'seal' and p.parent.parent.name == 'internal':
    # The envelope exceptions return the public reason.
    if re.search(r'\bextends EnvelopeException\b|\bclass EnvelopeException\b', s):
      s = re.sub(r'(?<![.\w])Reason\b', 'QuarantineReason', s)
  # The builder takes the public Compression, never the codec.
  s = re.sub(r'\.compression\(\s*(?:dev\.spillway\.core\.(?:internal\.)?seal\.)?Codec\.(NONE|LZ4|ZSTD)\b', r'.compression(Compression.\1', s)
  s = re.sub(r'\.compression\(\s*(?:dev\.spillway\.core\.(?:internal\.)?seal\.)?Codec\.valueOf\(', r'.compression(Compression.valueOf(', s)
  if s != s0 or p.parent.name in ('core', 'seal', 'spill'):
    s = fix_imports(s)
  if s != s0:
    p.write_text(s)

# SpillBufferBuilder: compression(Compression) instead of compression(Codec).
b = core / 'SpillBufferBuilder.java'
s = b.read_text()
s = re.sub(r'public SpillBufferBuilder compression\(Codec codec\) \{\n(\s*)this\.codec = Objects\.requireNonNull\(codec, "compression"\);',
           r'public SpillBufferBuilder compression(Compression compression) {\n\1this.codec = Codec.of(Objects.requireNonNull(compression, "compression"));', s)
b.write_text(fix_imports(s))

# The daemon's configuration holds the public Compression; only the Kafka sealer needs the codec.
srv = pathlib.Path('buffer-server/src/main/java/dev/spillway/server')
edits = {
  'config/ServerConfig.java': [(r'\bCodec compression\b', 'Compression compression')],
  'config/ConfigLoader.java': [(r'\bCodec (\w+) = Codec\.fromConfigName\(', r'Compression \1 = Compression.fromConfigName(')],
  'BufferOpener.java': [(r'compression\(\) == Codec\.', 'compression() == Compression.')],
  'KafkaSpillOpener.java': [(r'(?<!Codec\.of\()\bconfig\.compression\(\)', 'Codec.of(config.compression())')],
}
for f, subs in edits.items():
  p = srv / f
  s0 = s = p.read_text()
  for a, r in subs:
    s = re.sub(a, r, s)
  if 'KafkaSpillOpener' in f and 'Codec.of(' in s and 'import dev.spillway.core.internal.seal.Codec;' not in s:
    s = re.sub(r'^(import [^\n]*\n)', r'import dev.spillway.core.internal.seal.Codec;\n\1', s, count=1, flags=re.M)
  s = fix_imports(s)
  if s != s0:
    p.write_text(s)

# Docs and the README name the packages.
for p in [root / 'README.md', *root.glob('docs/*.md'), *root.glob('*/README.md'), *root.glob('benchmarks/*.md')]:
  s0 = p.read_text()
  s = rewrite_names(s0)
  if s != s0:
    p.write_text(s)
PY

# ---- package-info for the API package and the internal packages ------------------------------------
write_if_absent() { [ -f "$1" ] || cat > "$1"; }

write_if_absent "$CORE/package-info.java" <<'EOF'
/**
 * Spillway's public API: an encrypted, crash-safe spill buffer for telemetry batches.
 *
 * <p>The supported surface, with a compatibility promise:
 *
 * <ul>
 *   <li>{@link dev.spillway.core.SpillBuffer} and its {@link dev.spillway.core.SpillBufferBuilder};
 *       the narrower views {@link dev.spillway.core.SpillWriter} and {@link dev.spillway.core.SpillReader}
 *   <li>what an offer and a poll return: {@link dev.spillway.core.OfferResult},
 *       {@link dev.spillway.core.Delivery}
 *   <li>the settings a builder takes: {@link dev.spillway.core.Durability},
 *       {@link dev.spillway.core.FsyncPolicy}, {@link dev.spillway.core.OverflowPolicy},
 *       {@link dev.spillway.core.Compression}, {@link dev.spillway.core.RotationPolicy},
 *       {@link dev.spillway.core.PayloadType}
 *   <li>{@link dev.spillway.core.BufferObserver} (with {@link dev.spillway.core.QuarantineReason}) and
 *       {@link dev.spillway.core.BufferMetrics}
 *   <li>{@link dev.spillway.core.SpillInspection}: a read-only look at a spill directory (what
 *       {@code spill inspect} and the benchmarks use)
 *   <li>the key-provider interfaces in {@code dev.spillway.core.keys} (and the AWS KMS provider in
 *       {@code dev.spillway.core.keys.aws}), the drain in {@code dev.spillway.core.drain}, and the
 *       OpenTelemetry SDK exporters in {@code dev.spillway.core.export}
 * </ul>
 *
 * <p>Everything under {@code dev.spillway.core.internal} (the envelope and sealing in
 * {@code internal.seal}, the Chronicle spill files in {@code internal.spill}) has no compatibility
 * promise. No public signature in the packages above mentions an internal type
 * ({@code PublicApiTest} checks it).
 */
package dev.spillway.core;
EOF

write_if_absent "$CORE/internal/seal/package-info.java" <<'EOF'
/**
 * Internal: no compatibility promise; used by buffer-kafka (which seals and opens its records with
 * {@link dev.spillway.core.internal.seal.Sealer} and {@link dev.spillway.core.internal.seal.Opener}),
 * buffer-server (to build the Kafka spill) and the benchmarks of sealing itself.
 *
 * <p>The envelope: its byte format ({@link dev.spillway.core.internal.seal.EnvelopeFormat}), the
 * write side ({@code Sealer}: compression, epochs, key records), the read side ({@code Opener}) and
 * the per-stream replay watermarks. Only this package knows the envelope bytes. Users choose what it
 * does through the public {@link dev.spillway.core.Compression} and
 * {@link dev.spillway.core.RotationPolicy}.
 */
package dev.spillway.core.internal.seal;
EOF

write_if_absent "$CORE/internal/spill/package-info.java" <<'EOF'
/**
 * Internal: no compatibility promise; used by buffer-kafka/buffer-server only through the engine,
 * and by the benchmarks of the spill files themselves.
 *
 * <p>The spill log on disk: Chronicle Queue files ({@link dev.spillway.core.internal.spill.ChronicleSpillLog}
 * behind {@link dev.spillway.core.internal.spill.SpillLog}), their checks, and where quarantined
 * records go. Only this package knows Chronicle's files. To look at a spill directory from outside,
 * use the public {@link dev.spillway.core.SpillInspection}.
 */
package dev.spillway.core.internal.spill;
EOF

git add -A buffer-core buffer-kafka buffer-server benchmarks docs README.md

echo "--- left mentioning the old packages (expect nothing):"
git grep -nE 'dev\.spillway\.core\.(seal|spill)\b|EnvelopeException\.Reason' -- '*.java' '*.md' || true
echo "--- now check: mvn -q -o -pl buffer-core,buffer-kafka,buffer-server,benchmarks -am test-compile"
