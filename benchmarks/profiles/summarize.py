#!/usr/bin/env python3
"""Summarise an async-profiler collapsed-stack file (JMH -prof async output=collapsed).

    summarize.py FILE ANCHOR [--top N] [--trim OUT]

Only stacks with a frame containing ANCHOR (the benchmark method, e.g.
EmbeddedPathBenchmark.embeddedSpill) count: the benchmark thread, not JIT or GC threads.
Prints shares by category (the leaf-most frame matching a rule below) and the top self frames.
--trim OUT writes those stacks cut to start at the anchor, with at most 10 frames below it and
package names dropped, merged: a small collapsed file flamegraph tools still read.
"""
import collections
import sys

RULES = [
    ("LZ4 compression (JNI)", ["LZ4", "lz4"]),
    ("AES-GCM (Tink over JCE)", ["AesGcm", "GHASH", "aescrypt", "AESCrypt", "GCTR", "ghash", "com/google/crypto", "javax/crypto"]),
    ("Chronicle append", ["net/openhft"]),
    ("mapping: Spillway's OTLP writer", ["dev/spillway/core/export/internal"]),
    ("mapping: SDK marshalers", ["io/opentelemetry/exporter/internal", "disk/buffering/internal/serialization"]),
    ("engine, seal, spill (other)", ["dev/spillway/core"]),
    ("file write (FileOutputStream, kernel)", ["FileOutputStream", "writeBytes"]),
]


def main(argv):
    path, anchor = argv[1], argv[2]
    top = int(argv[argv.index("--top") + 1]) if "--top" in argv else 25
    trim = argv[argv.index("--trim") + 1] if "--trim" in argv else None
    selfc, cats, trimmed = collections.Counter(), collections.Counter(), collections.Counter()
    total = every = 0
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, n = line.rsplit(" ", 1)
        n = int(n)
        every += n
        frames = stack.split(";")
        at = next((i for i, f in enumerate(frames) if anchor in f), None)
        if at is None:
            continue
        total += n
        selfc[frames[-1]] += n
        cat = "other"
        for f in reversed(frames):
            hit = next((name for name, keys in RULES if any(k in f for k in keys)), None)
            if hit:
                cat = hit
                break
        cats[cat] += n
        short = [f.rsplit("/", 1)[-1] for f in frames[at:at + 11]]
        trimmed[";".join(short)] += n
    print(f"{total} samples on the benchmark thread ({anchor}), {every} in the file")
    print("by category (leaf-most frame matching a rule):")
    for c, n in cats.most_common():
        print(f"  {100 * n / total:5.1f} %  {c}")
    print(f"top {top} self frames:")
    for f, n in selfc.most_common(top):
        print(f"  {100 * n / total:5.1f} %  {f[:150]}")
    if trim:
        with open(trim, "w") as out:
            for s, n in sorted(trimmed.items()):
                out.write(f"{s} {n}\n")


if __name__ == "__main__":
    main(sys.argv)
