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
  # Resources too: the fuzz seeds and keys are found relative to the test class's package.
  for root in buffer-core/src/{main,test}/{java,resources}/dev/spillway/core; do
    if [ -d "$root/$leaf" ]; then
      mkdir -p "$root/internal/$leaf"
      local f
      for f in "$root/$leaf"/*; do
        if git ls-files --error-unmatch "$f" >/dev/null 2>&1; then
          git mv "$f" "$root/internal/$leaf/"
        else
          mv "$f" "$root/internal/$leaf/" # a file nobody has committed yet moves too
        fi
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
    git mv "$CORE/internal/seal/$t.java" "$CORE/$t.java" 2>/dev/null || mv "$CORE/internal/seal/$t.java" "$CORE/$t.java"
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

TOKENS = re.compile(r'/\*[\s\S]*?\*/|//[^\n]*|"""[\s\S]*?"""|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')

def strip_comments_and_imports(s):
  # One pass, so that "http://..." is a string and not a comment.
  s = TOKENS.sub(lambda m: '""' if m.group(0)[0] in '"\'' else ' ', s)
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
    # Only imports this script may have made stale: the moved packages and the moved types.
    if not (fq.startswith('dev.spillway.core.internal.seal.') or fq.startswith('dev.spillway.core.internal.spill.')
            or simple in API_NEW):
      return m.group(0)
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

python3 - <<'PY'
import pathlib, re
# README's layout: the internal packages on lines of their own, aligned with the rest.
p = pathlib.Path('README.md')
s0 = s = p.read_text()
s = re.sub(r'^  dev\.spillway\.core\.internal\.seal +(.*)\n  dev\.spillway\.core\.internal\.spill +(.*)\n',
           lambda m: '  dev.spillway.core.internal   not API (no compatibility promise):\n'
                     '    .internal.seal             ' + m.group(1) + '\n'
                     '    .internal.spill            ' + m.group(2) + '\n', s, flags=re.M)
s = s.replace('  dev.spillway.core            SpillBuffer and its builder (the public API)\n',
              '  dev.spillway.core            SpillBuffer and its builder (the public API: docs/EMBEDDING.md#the-public-api)\n')
if s != s0:
  p.write_text(s)
PY

if ! grep -q '^## The public API' docs/EMBEDDING.md; then
  cat >> docs/EMBEDDING.md <<'EOF'

## The public API

What `buffer-core` promises to keep compatible (the list is also in
`dev/spillway/core/package-info.java`):

| Package | Types |
|---|---|
| `dev.spillway.core` | `SpillBuffer`, `SpillBufferBuilder`, `SpillWriter`, `SpillReader`, `OfferResult`, `Delivery`, `BufferObserver`, `BufferMetrics`, `SpillInspection` (a read-only look at a spill directory, what `spillway spill inspect` uses), and the values they take: `Durability`, `FsyncPolicy`, `OverflowPolicy`, `Compression`, `RotationPolicy`, `PayloadType`, `QuarantineReason` |
| `dev.spillway.core.keys`, `dev.spillway.core.keys.aws` | the key-provider interfaces (`DataKeyIssuer` to write, `DataKeyUnwrapper` to read) and the local and AWS KMS providers |
| `dev.spillway.core.drain` | the drain: poll, export, ack or release with back-off |
| `dev.spillway.core.export` | `SpillingSpanExporter`, `SpillingLogRecordExporter`, `SpillingMetricExporter`, their builders and autoconfigure providers |

Everything under `dev.spillway.core.internal` has no compatibility promise: the envelope and its
sealing (`internal.seal`, used directly by `buffer-kafka` and by the daemon to build the Kafka
spill), the Chronicle spill files (`internal.spill`), and helpers. No public signature of the
packages above names an internal type; `PublicApiTest` fails if one does.
EOF
fi

if [ ! -f "$CORE_TEST/PublicApiTest.java" ]; then
  cat > "$CORE_TEST/PublicApiTest.java" <<'EOF'
package dev.spillway.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.core.internal.seal.Codec;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The public API never mentions an internal type: every public and protected signature (methods,
 * constructors, fields, record components, supertypes, type bounds) of every public class in the
 * API packages names only API, JDK or third-party types. A type from {@code ...internal...} in one
 * of them would make the internal package a compatibility promise.
 */
class PublicApiTest {
  /** The packages with a compatibility promise (package-info.java of dev.spillway.core lists them). */
  static final List<String> API_PACKAGES = List.of(
      "dev.spillway.core", "dev.spillway.core.keys", "dev.spillway.core.keys.aws",
      "dev.spillway.core.drain", "dev.spillway.core.export");

  @Test
  void apiSignatures_mentionNoInternalType() throws Exception {
    List<Class<?>> api = publicClasses();
    assertThat(api).as("the scan found the API").contains(
        SpillBuffer.class, SpillBufferBuilder.class, Delivery.class, OfferResult.class,
        BufferObserver.class, SpillWriter.class, SpillReader.class, SpillInspection.class,
        Compression.class, QuarantineReason.class, PayloadType.class, RotationPolicy.class,
        dev.spillway.core.keys.DataKeyIssuer.class, dev.spillway.core.keys.DataKeyUnwrapper.class,
        dev.spillway.core.export.SpillingSpanExporter.class,
        dev.spillway.core.export.SpillingMetricExporter.class,
        dev.spillway.core.export.SpillingLogRecordExporter.class);
    Set<String> leaks = new TreeSet<>();
    for (Class<?> c : api) {
      leaks.addAll(internalMentions(c));
    }
    assertThat(leaks).as("public signatures that name an internal type").isEmpty();
  }

  @Test
  void theCheck_findsAnInternalTypeInASignature() {
    assertThat(internalMentions(Leaky.class))
        .containsExactly("dev.spillway.core.PublicApiTest$Leaky.codec() returns/takes "
            + Codec.class.getName());
  }

  /** A fixture that leaks, so that the check above is shown able to fail. */
  public static final class Leaky {
    public Codec codec() {
      return Codec.NONE;
    }

    Codec packagePrivateIsFine() {
      return Codec.NONE;
    }
  }

  static Set<String> internalMentions(Class<?> c) {
    Set<String> out = new TreeSet<>();
    List<Type> supers = new ArrayList<>(List.of(c.getGenericInterfaces()));
    if (c.getGenericSuperclass() != null) {
      supers.add(c.getGenericSuperclass());
    }
    check(c.getName() + " extends/implements", supers.toArray(Type[]::new), out);
    for (TypeVariable<?> v : c.getTypeParameters()) {
      check(c.getName() + "<" + v.getName() + ">", v.getBounds(), out);
    }
    for (Field f : c.getDeclaredFields()) {
      if (visible(f.getModifiers())) {
        check(c.getName() + "." + f.getName(), new Type[] {f.getGenericType()}, out);
      }
    }
    List<Executable> members = new ArrayList<>(List.of(c.getDeclaredConstructors()));
    members.addAll(List.of(c.getDeclaredMethods()));
    for (Executable e : members) {
      if (!visible(e.getModifiers()) || e.isSynthetic()) {
        continue;
      }
      List<Type> types = new ArrayList<>(List.of(e.getGenericParameterTypes()));
      types.addAll(List.of(e.getGenericExceptionTypes()));
      if (e instanceof Method m) {
        types.add(m.getGenericReturnType());
      }
      for (TypeVariable<?> v : e.getTypeParameters()) {
        types.addAll(List.of(v.getBounds()));
      }
      String name = e instanceof Constructor<?> ? "<init>" : e.getName();
      check(c.getName() + "." + name + "() returns/takes", types.toArray(Type[]::new), out);
    }
    for (Class<?> nested : c.getDeclaredClasses()) {
      if (visible(nested.getModifiers())) {
        out.addAll(internalMentions(nested));
      }
    }
    return out;
  }

  private static boolean visible(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  private static void check(String where, Type[] types, Set<String> out) {
    Set<Class<?>> named = new HashSet<>();
    for (Type t : types) {
      collect(t, named, new HashSet<>());
    }
    for (Class<?> n : named) {
      if (n.getName().contains(".internal.")) {
        out.add(where + " " + n.getName());
      }
    }
  }

  private static void collect(Type t, Set<Class<?>> into, Set<Type> seen) {
    if (!seen.add(t)) {
      return;
    }
    if (t instanceof Class<?> c) {
      into.add(c.isArray() ? c.getComponentType() : c);
    } else if (t instanceof ParameterizedType p) {
      collect(p.getRawType(), into, seen);
      for (Type a : p.getActualTypeArguments()) {
        collect(a, into, seen);
      }
    } else if (t instanceof GenericArrayType g) {
      collect(g.getGenericComponentType(), into, seen);
    } else if (t instanceof WildcardType w) {
      for (Type b : w.getUpperBounds()) {
        collect(b, into, seen);
      }
      for (Type b : w.getLowerBounds()) {
        collect(b, into, seen);
      }
    } else if (t instanceof TypeVariable<?> v) {
      for (Type b : v.getBounds()) {
        collect(b, into, seen);
      }
    }
  }

  /** Public top-level classes of the API packages, read from buffer-core's compiled classes. */
  private static List<Class<?>> publicClasses() throws IOException, URISyntaxException, ClassNotFoundException {
    Path classes = Path.of(SpillBuffer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Class<?>> out = new ArrayList<>();
    for (String pkg : API_PACKAGES) {
      Path dir = classes.resolve(pkg.replace('.', '/'));
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          String file = f.getFileName().toString();
          if (!file.endsWith(".class") || file.contains("$") || file.equals("package-info.class")) {
            continue;
          }
          Class<?> c = Class.forName(pkg + "." + file.substring(0, file.length() - ".class".length()),
              false, PublicApiTest.class.getClassLoader());
          if (Modifier.isPublic(c.getModifiers())) {
            out.add(c);
          }
        }
      }
    }
    return out;
  }
}
EOF
fi

git add -A buffer-core buffer-kafka buffer-server benchmarks docs README.md


echo "--- left mentioning the old packages (expect nothing):"
git grep -nE 'dev\.spillway\.core\.(seal|spill)\b|EnvelopeException\.Reason' -- '*.java' '*.md' || true
echo "--- now check: mvn -q -o -pl buffer-core,buffer-kafka,buffer-server,benchmarks -am test-compile"
