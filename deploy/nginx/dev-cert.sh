#!/bin/sh
# A development certificate for nginx: a local CA and a server certificate it signs.
#
#   deploy/nginx/dev-cert.sh [OUT_DIR] [NAME ...]
#
# OUT_DIR (default: deploy/nginx/certs, which git ignores) receives
#   ca.crt   the CA's certificate: import it into a browser or pass it to a
#            client (curl --cacert, httpx verify=) to trust the server
#   ca.key   the CA's key, kept so that new server certificates can be signed
#            by the same CA (already trusted) on the next run
#   tls.crt  the server certificate (then the CA's, a full chain) for
#            NGINX_SSL_CERTIFICATE
#   tls.key  its key, for NGINX_SSL_CERTIFICATE_KEY (readable by all, so
#            that nginx in a container, as another user, can read it)
# The server certificate names localhost, 127.0.0.1, ::1 and every NAME given
# (a host name or an IP address). Running again keeps the CA and issues a new
# server certificate. For development only: never use these in production.
set -eu

out="${1:-$(dirname "$0")/certs}"
if [ $# -gt 0 ]; then shift; fi

command -v openssl >/dev/null || { echo "dev-cert.sh: openssl is needed" >&2; exit 1; }
mkdir -p "$out"
umask 077

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do
    case "$name" in
        *[!0-9.]*) case "$name" in *:*) san="$san,IP:$name" ;; *) san="$san,DNS:$name" ;; esac ;;
        *) san="$san,IP:$name" ;;
    esac
done

if [ ! -s "$out/ca.key" ] || [ ! -s "$out/ca.crt" ]; then
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$out/ca.key" -out "$out/ca.crt" -days 825 -sha256 \
        -subj "/CN=Wishlist development CA" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

ext="$(mktemp)"
csr="$(mktemp)"
trap 'rm -f "$ext" "$csr"' EXIT
cat >"$ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
EXT
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$out/tls.key" -out "$csr" -subj "/CN=localhost" 2>/dev/null
# 397 days: the longest validity browsers accept for a server certificate.
openssl x509 -req -in "$csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -days 397 -sha256 -extfile "$ext" -out "$out/server.crt" 2>/dev/null
cat "$out/server.crt" "$out/ca.crt" >"$out/tls.crt"
rm -f "$out/server.crt" "$out/ca.srl"
# Readable by the container's nginx user, whatever user ran this script; the
# CA's key stays private.
chmod 644 "$out/ca.crt" "$out/tls.crt" "$out/tls.key"

echo "dev-cert.sh: wrote $out/tls.crt and $out/tls.key for $san (CA: $out/ca.crt)"
