#!/usr/bin/env bash
# Builds the self-contained distribution: spillway-VERSION.tar.gz with
#   bin/spillway        launcher (runs the bundled runtime with the flags Chronicle Queue needs)
#   lib/spillway.jar    the daemon and CLI
#   runtime/            a jlink'ed Java runtime (no JDK needed on the host)
#   ops/{systemd,k8s,docker,examples,iam,pki}/   deployment files
#   docs/               the reference documents
#   README.md           the operator's guide (ops/dist/README.md), not the developers' README
# The layout is listed in ops/dist/README.md and in the root README; test-dist.sh checks all three agree.
# Maven runs it in the buffer-server 'dist' profile:  mvn -Pdist -pl buffer-server -am package -DskipTests
# Usage: build-dist.sh VERSION JAR OUT_DIR JAVA_HOME JVM_FLAGS...
set -euo pipefail
version=$1 jar=$2 out=$3 jdk=$4
shift 4
flags="$*"
root=$(cd "$(dirname "$0")/../.." && pwd)
name="spillway-$version"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dist="$work/$name"
mkdir -p "$dist/bin" "$dist/lib" "$dist/docs"

# Modules from `jdeps --print-module-deps` on the shaded jar, plus what is reached reflectively:
# jdk.compiler (Chronicle compiles generated code), jdk.crypto.ec (EC keys in JSSE), jdk.management.
modules=java.base,java.compiler,jdk.compiler,java.desktop,java.logging,java.management,jdk.management,java.naming,java.net.http,java.sql,jdk.jfr,jdk.unsupported,jdk.crypto.ec
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --compress=2 --output "$dist/runtime" 2>&1 | grep -v "compress.*deprecated" || true
[ -x "$dist/runtime/bin/java" ] || { echo "jlink produced no runtime" >&2; exit 1; }

cp "$jar" "$dist/lib/spillway.jar"
cat > "$dist/bin/spillway" <<LAUNCHER
#!/bin/sh
# Spillway $version launcher. JAVA_OPTS adds JVM options (heap size, for instance).
set -eu
here=\$(cd "\$(dirname "\$0")/.." && pwd)
# SPILLWAY_UMASK (e.g. 007): the split deployment's containers set it so the other role's user, in
# the same group, can read and delete spill files (systemd sets UMask= instead).
if [ -n "\${SPILLWAY_UMASK:-}" ]; then umask "\$SPILLWAY_UMASK"; fi
# shellcheck disable=SC2086
exec "\$here/runtime/bin/java" \${JAVA_OPTS:-} $flags -jar "\$here/lib/spillway.jar" "\$@"
LAUNCHER
chmod 0755 "$dist/bin/spillway"

mkdir -p "$dist/ops"
cp -r "$root/ops/examples" "$root/ops/systemd" "$root/ops/k8s" "$root/ops/docker" "$root/ops/iam" "$root/ops/pki" "$dist/ops/"
cp "$root"/docs/*.md "$dist/docs/"
sed "s/VERSION/$version/g" "$root/ops/dist/README.md" > "$dist/README.md"
mkdir -p "$out"
tar -C "$work" -czf "$out/$name.tar.gz" "$name"
echo "built $out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1))"
