#!/usr/bin/env bash
# gen-certs.sh - make a throw-away local CA, a server certificate and a
# client certificate (for mutual TLS), for testing bitstuff.
#
#   scripts/gen-certs.sh [--out DIR] [--days N] [--san DNS:name|IP:addr]...
#                        [--client-cn NAME] [--force]
#
# Keys are ECDSA P-256, signatures SHA-256. Private keys are written 0600 and
# must never be committed (.gitignore refuses them).
set -euo pipefail
umask 077

usage() {
    cat <<'EOF'
Usage: scripts/gen-certs.sh [options]

Make a local CA, a server certificate and a client certificate (mutual TLS)
for testing bitstuff. ECDSA P-256 keys, SHA-256 signatures.

Options:
  --out DIR          where to write the files (default: certs)
  --days N           validity in days, a positive integer (default: 30)
  --san NAME         add a subjectAltName to the server certificate, as
                     DNS:host.example or IP:192.0.2.7 or IP:2001:db8::7
                     (repeatable; DNS:localhost, IP:127.0.0.1 and IP:::1
                     are always included)
  --client-cn NAME   the client certificate's common name
                     (default: bitstuff-client)
  --force            overwrite existing files
  -h, --help         show this help

Files made in DIR: ca.crt ca.key server.crt server.key client.crt client.key
EOF
}

die() {
    echo "gen-certs.sh: $*" >&2
    exit 1
}

out=certs
days=30
client_cn=bitstuff-client
force=0
sans=("DNS:localhost" "IP:127.0.0.1" "IP:::1")

need_arg() { # option, number of remaining args
    [ "$2" -ge 2 ] || die "$1 needs a value (see --help)"
}

valid_san() {
    local v=$1 kind=${1%%:*} name=${1#*:}
    [ "$kind" != "$v" ] || return 1
    case $kind in
    DNS)
        # letters, digits, hyphens and dots; an optional leading "*." wildcard
        [[ $name =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$ ]] &&
            [ ${#name} -le 253 ]
        ;;
    IP)
        if [[ $name =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]]; then
            local i
            for i in 1 2 3 4; do
                [ $((10#${BASH_REMATCH[$i]})) -le 255 ] || return 1
            done
            return 0
        fi
        # IPv6: hex groups and colons (at most one "::"); openssl checks the rest
        [[ $name =~ ^[0-9A-Fa-f:]+$ && $name == *:* && ${#name} -le 39 ]]
        ;;
    *) return 1 ;;
    esac
}

while [ $# -gt 0 ]; do
    case $1 in
    --out)
        need_arg "$1" $#
        out=$2
        shift 2
        ;;
    --days)
        need_arg "$1" $#
        [[ $2 =~ ^[1-9][0-9]{0,4}$ ]] ||
            die "--days wants a positive integer (at most 99999), not '$2'"
        days=$2
        shift 2
        ;;
    --san)
        need_arg "$1" $#
        valid_san "$2" ||
            die "--san '$2' is not DNS:host.name or IP:address (e.g. DNS:host.example, IP:192.0.2.7)"
        sans+=("$2")
        shift 2
        ;;
    --client-cn)
        need_arg "$1" $#
        [[ $2 =~ ^[A-Za-z0-9._@-]{1,64}$ ]] ||
            die "--client-cn wants 1-64 letters, digits, '.', '_', '@' or '-', not '$2'"
        client_cn=$2
        shift 2
        ;;
    --force)
        force=1
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
done

command -v openssl >/dev/null 2>&1 ||
    die "openssl not found: install it (Debian: apt-get install openssl)"

files=(ca.crt ca.key server.crt server.key client.crt client.key)
if [ "$force" != 1 ]; then
    existing=()
    for f in "${files[@]}"; do
        [ ! -e "$out/$f" ] || existing+=("$out/$f")
    done
    [ ${#existing[@]} -eq 0 ] ||
        die "refusing to overwrite ${existing[*]}: pass --force to replace them"
fi

mkdir -p "$out" || die "cannot create directory '$out'"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Build everything in $tmp, then move into place, so a failure midway never
# leaves a half-made set in $out.
genkey() { # file
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$1" 2>"$tmp/err" || {
        cat "$tmp/err" >&2
        die "could not generate an EC P-256 key"
    }
}

san_line=$(
    IFS=,
    echo "${sans[*]}"
)

genkey "$tmp/ca.key"
openssl req -x509 -new -sha256 -key "$tmp/ca.key" -days "$days" \
    -subj "/O=bitstuff/CN=bitstuff local test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -addext "authorityKeyIdentifier=keyid:always" \
    -out "$tmp/ca.crt" 2>"$tmp/err" || {
    cat "$tmp/err" >&2
    die "could not make the CA certificate"
}

leaf() { # name, CN, extendedKeyUsage, extra extension line
    local name=$1 cn=$2 eku=$3 extra=$4
    genkey "$tmp/$name.key"
    cat >"$tmp/$name.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=$eku
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
$extra
EOF
    if ! openssl req -new -sha256 -key "$tmp/$name.key" \
        -subj "/O=bitstuff/CN=$cn" -out "$tmp/$name.csr" 2>"$tmp/err" ||
        ! openssl x509 -req -sha256 -in "$tmp/$name.csr" -days "$days" \
            -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
            -CAserial "$tmp/ca.srl" -extfile "$tmp/$name.ext" \
            -out "$tmp/$name.crt" 2>"$tmp/err"; then
        cat "$tmp/err" >&2
        die "could not make the $name certificate"
    fi
    openssl verify -CAfile "$tmp/ca.crt" "$tmp/$name.crt" >/dev/null \
        2>"$tmp/err" || {
        cat "$tmp/err" >&2
        die "the new $name certificate does not verify against the new CA"
    }
}

leaf server localhost serverAuth "subjectAltName=$san_line"
leaf client "$client_cn" clientAuth ""

for f in "${files[@]}"; do
    case $f in
    *.key) chmod 0600 "$tmp/$f" ;;
    *) chmod 0644 "$tmp/$f" ;;
    esac
    mv -f "$tmp/$f" "$out/$f"
done

cat <<EOF
Made in $out/ (valid for $days days):
  ca.crt      the local CA certificate: give it to clients (--ca-file)
  ca.key      the CA's private key (0600): signs the two below; keep it secret
  server.crt  server certificate for $san_line
  server.key  its private key (0600)
  client.crt  client certificate for mutual TLS, CN=$client_cn
  client.key  its private key (0600)

Server:
  bitstuffd --cert $out/server.crt --key $out/server.key
Client:
  bitstuff --ca-file $out/ca.crt
Mutual TLS: the server trusts $out/ca.crt for client certificates and the
client presents $out/client.crt with $out/client.key (see each --help).
By hand:
  openssl s_client -quiet -connect localhost:55000 -CAfile $out/ca.crt
EOF
