#!/usr/bin/env bash
# Development PKI for Spillway and its clients, with openssl:
#   ca.crt ca.key          a development CA (10 years)
#   server.crt server.key  server certificate, SAN localhost, 127.0.0.1, ::1 (serverAuth)
#   client.crt client.key  client certificate for an SDK or collector (clientAuth)
# Keys are EC P-256 in unencrypted PKCS#8 ("BEGIN PRIVATE KEY"), the only form the
# OpenTelemetry Java SDK reads for OTEL_EXPORTER_OTLP_CLIENT_KEY; mode 0600.
#
# Usage: dev-ca.sh [OUT_DIR] [DAYS]     (defaults: ./dev-pki, 397 days for leaf certificates)
#
# For development only: the CA key lies next to the certificates. It refuses to overwrite
# an existing CA, so re-running never silently invalidates certificates already handed out.
set -euo pipefail

out=${1:-./dev-pki}
days=${2:-397}
case $days in
  '' | *[!0-9]*) echo "dev-ca.sh: DAYS must be a number of days, not '$days'" >&2; exit 2 ;;
esac
command -v openssl >/dev/null || { echo "dev-ca.sh: openssl not found" >&2; exit 1; }

umask 077
mkdir -p "$out"
if [ -e "$out/ca.key" ]; then
  echo "dev-ca.sh: $out/ca.key exists; remove $out to start over" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

new_key "$out/ca.key"
openssl req -x509 -new -key "$out/ca.key" -sha256 -days 3650 \
  -subj "/O=Spillway development/CN=Spillway Dev CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$out/ca.crt"

# issue NAME CN EXTENDED_KEY_USAGE SUBJECT_ALT_NAME
issue() {
  local name=$1 cn=$2 eku=$3 san=$4
  new_key "$out/$name.key"
  openssl req -new -key "$out/$name.key" -subj "/O=Spillway development/CN=$cn" -out "$work/$name.csr"
  cat > "$work/$name.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=$eku
subjectAltName=$san
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
  openssl x509 -req -in "$work/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
    -extfile "$work/$name.ext" -out "$out/$name.crt" 2>/dev/null
}

issue server localhost serverAuth "DNS:localhost,IP:127.0.0.1,IP:::1"
issue client spillway-dev-client clientAuth "DNS:spillway-dev-client"

chmod 0600 "$out"/*.key
chmod 0644 "$out"/*.crt
openssl verify -CAfile "$out/ca.crt" "$out/server.crt" "$out/client.crt" >/dev/null

cat <<MSG
Development PKI in $out (leaf certificates valid $days days):
  receiver tls:  cert_file: $out/server.crt  key_file: $out/server.key  client_ca_file: $out/ca.crt
  SDK:           OTEL_EXPORTER_OTLP_CERTIFICATE=$out/ca.crt
                 OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=$out/client.crt
                 OTEL_EXPORTER_OTLP_CLIENT_KEY=$out/client.key
MSG
