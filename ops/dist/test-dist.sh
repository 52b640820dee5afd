#!/usr/bin/env bash
# Tests the distribution tarball as a user would use it: unpack, run the bundled runtime, start the
# daemon's quick start from it, check the TLS listener refuses a client without a certificate
# (alert 116, the article's openssl check), send one OTLP/HTTP request with the client certificate,
# stop it with SIGTERM (exit 0), and check nothing was written to the home directory.
# Usage: test-dist.sh spillway-VERSION.tar.gz
set -euo pipefail
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "test-dist: FAIL: $*" >&2; [ -f "$work/serve.log" ] && tail -20 "$work/serve.log" >&2; exit 1; }

tar -C "$work" -xzf "$tarball"
dist=$(ls -d "$work"/spillway-*)

# The layout: the archive's README (the operator's guide, not the developers' README) lists what
# the archive holds, the project's README lists the same, and the archive holds exactly that.
layout() { sed -n '/^<!-- layout/,/^<!-- \/layout -->/p' "$1" | sed -n '/^```$/,/^```$/p' | grep -v '^```$' | awk '{print $1}'; }
root_readme="$(cd "$(dirname "$0")/../.." && pwd)/README.md"
listed=$(layout "$dist/README.md")
[ -n "$listed" ] || fail "the archive's README.md has no layout block"
grep -q "operator's guide" "$dist/README.md" || fail "the archive's README.md is not the operator's guide"
[ "$listed" = "$(layout "$root_readme")" ] || fail "README.md and the archive's README.md list different layouts"
for path in $listed; do
  [ -e "$dist/$path" ] || fail "the README lists $path, the archive has no $path"
done
for entry in $(cd "$dist" && ls -A; cd "$dist" && ls -A ops | sed 's#^#ops/#'); do
  [ -d "$dist/$entry" ] && entry="$entry/"
  [ "$entry" = "ops/" ] && continue
  echo "$listed" | grep -q "^$entry" || fail "the archive holds $entry, which the README does not list"
done
[ -f "$dist/ops/systemd/spillway-ingest.service" ] && [ -f "$dist/ops/k8s/daemonset.yaml" ] \
  || fail "ops/systemd and ops/k8s are not where the README says"
[ -x "$dist/bin/spillway" ] || fail "no bin/spillway"
[ -x "$dist/runtime/bin/java" ] || fail "no bundled runtime"
"$dist/bin/spillway" version | grep -q '^spillway ' || fail "version"

# The image's entrypoint (ops/docker/entrypoint.sh, run from the unpacked archive as the image does):
# split roles by default, so 'serve' without --role is refused naming the choices; the rest passes.
entry="$dist/ops/docker/entrypoint.sh"
[ -x "$entry" ] || fail "no ops/docker/entrypoint.sh"
rc=0; "$entry" serve --config /nonexistent.yaml > "$work/entry.log" 2>&1 || rc=$?
[ "$rc" = 64 ] && grep -q -- '--role ingest' "$work/entry.log" && grep -q -- '--role both' "$work/entry.log" \
  || fail "the image's entrypoint ran serve without --role (exit $rc): $(head -3 "$work/entry.log")"
"$entry" version | grep -q '^spillway ' || fail "the image's entrypoint does not pass 'version' through"
"$entry" serve --help | grep -q -- '--role' || fail "the image's entrypoint does not pass 'serve --help' through"
grep -q '^CMD \["serve", "--role", "ingest"' "$dist/ops/docker/Dockerfile" || fail "the image's default is not the ingest role"

export HOME="$work/home"
mkdir -p "$HOME"
"$dist/bin/spillway" serve --state-dir "$work/state" > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  grep -q 'OTEL_EXPORTER_OTLP_ENDPOINT' "$work/serve.log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "the daemon exited early"
  sleep 0.5
done
grep -q 'OTEL_EXPORTER_OTLP_ENDPOINT' "$work/serve.log" || fail "the daemon did not start within 60 s"

# No client certificate: the handshake is refused with certificate_required.
alert=$( (sleep 2) | openssl s_client -connect 127.0.0.1:4318 -tls1_3 2>&1 || true)
echo "$alert" | grep -q 'alert number 116' || fail "no certificate_required alert: $(echo "$alert" | grep -i alert | head -2)"

# With the client certificate: one OTLP/HTTP JSON request is accepted.
certs="$work/state/certs"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$certs/ca.crt" --cert "$certs/client.crt" \
  --key "$certs/client.key" -H 'Content-Type: application/json' \
  --data '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"dist-test","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}' \
  https://127.0.0.1:4318/v1/traces) || true
[ "$code" = 200 ] || fail "OTLP/HTTP request answered $code"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || fail "exit status $status after SIGTERM"
[ -z "$(ls -A "$HOME")" ] || fail "files written into HOME: $(ls -A "$HOME")"
echo "test-dist: OK, the tarball unpacks, serves mTLS, accepts OTLP and stops cleanly ($(basename "$tarball"))"
