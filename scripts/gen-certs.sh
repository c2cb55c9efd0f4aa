#!/usr/bin/env bash
# gen-certs.sh - make a throw-away local CA, a server certificate and a
# client certificate (for mutual TLS), for testing bitstuff; and, with an
# existing CA, issue or renew certificates, revoke client certificates and
# publish the CA's CRL.
#
#   scripts/gen-certs.sh [--out DIR] [--days N] [--san DNS:name|IP:addr]...
#                        [--client-cn NAME] [--key-type ecdsa|rsa|ed25519]
#                        [--force]
#   scripts/gen-certs.sh --ca-dir DIR --issue server|client [--name BASE]
#   scripts/gen-certs.sh --ca-dir DIR --renew [--within DAYS]
#   scripts/gen-certs.sh --ca-dir DIR --revoke FILE.crt | --gen-crl
#
# Keys are ECDSA P-256 by default, signatures SHA-256. Private keys are
# written 0600 and must never be committed (.gitignore refuses them).
set -euo pipefail
umask 077

# The name in messages and hints: bitstuff-gen-certs when installed (and
# found in PATH), else the path it was run by (scripts/gen-certs.sh).
# The script reads no file of its own, so it runs from anywhere.
prog=${0##*/}
self=$0
if [ "$(command -v -- "$prog" 2>/dev/null || true)" = "$0" ]; then
    self=$prog
fi

usage() {
    echo "Usage: $self [options]"
    cat <<'EOF'

Without --ca-dir: make a new local CA, a server certificate and a client
certificate (mutual TLS) in --out for testing bitstuff.
With --ca-dir DIR: use DIR/ca.crt and DIR/ca.key, and do one of --issue,
--renew, --revoke, --gen-crl. Files are written to a temporary file in
the target directory and renamed into place, so a reader sees the old
file or the new one, never half of one.

Options:
  --out DIR          where to write the files (default: certs; with
                     --ca-dir: DIR itself)
  --days N           validity in days, a positive integer (default: 30)
  --san NAME         add a subjectAltName to the server certificate, as
                     DNS:host.example or IP:192.0.2.7 or IP:2001:db8::7
                     (repeatable; DNS:localhost, IP:127.0.0.1 and IP:::1
                     are always included)
  --client-cn NAME   the client certificate's common name
                     (default: bitstuff-client)
  --client-san NAME  add a subjectAltName to the client certificate:
                     DNS:name, IP:address or URI:scheme:rest (repeatable;
                     bitstuffd --allow-dns/--allow-uri match these)
  --key-type TYPE    ecdsa (P-256, the default), rsa (3072 bits) or
                     ed25519, for the keys this run makes
  --force            overwrite existing files
  --ca-dir DIR       issue from the CA in DIR (ca.crt, ca.key) instead of
                     making a new one
  --issue ROLE       with --ca-dir: issue one new certificate and key,
                     ROLE server or client, as BASE.crt and BASE.key in
                     --out (BASE: --name, default ROLE, or ROLE-rsa /
                     ROLE-ed25519 for those key types)
  --name BASE        the base name of the files --issue writes
  --renew            with --ca-dir: renew each certificate in --out that
                     DIR's CA issued and that expires within --within
                     days: same names, role and key type, a new key
  --within DAYS      what --renew counts as due (default: 10)
  --revoke FILE.crt  with --ca-dir: add FILE.crt (issued by DIR's CA) to
                     DIR/index.txt and publish DIR/ca.crl
  --gen-crl          with --ca-dir: publish DIR/ca.crl from DIR/index.txt
  --crl-days N       how long a published CRL stays valid (default: 30):
                     bitstuffd refuses every client once it is out of
                     date, so publish a new one before then
  --crl-url URL      name URL (http:// or https://) as the CRL
                     distribution point of the certificates this run
                     issues, for clients that fetch CRLs: publish DIR/ca.crl
                     there (--renew keeps each certificate's own)
  -h, --help         show this help

Files made in DIR: ca.crt ca.key server.crt server.key client.crt client.key
EOF
}

die() {
    echo "$prog: $*" >&2
    exit 1
}

out=
days=30
client_cn=bitstuff-client
force=0
key_type=ecdsa
ca_dir=
issue=
name=
renew=0
within=10
revoke=
gen_crl=0
crl_days=30
crl_url=
sans=("DNS:localhost" "IP:127.0.0.1" "IP:::1")
client_sans=()

need_arg() { # option, number of remaining args
    [ "$2" -ge 2 ] || die "$1 needs a value (see --help)"
}

positive() { # option, value
    [[ $2 =~ ^[1-9][0-9]{0,4}$ ]] ||
        die "$1 wants a positive integer (at most 99999), not '$2'"
}

valid_san() { # NAME [allow URI]
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
    URI)
        [ "${2:-}" = uri ] &&
            [[ $name =~ ^[A-Za-z][A-Za-z0-9+.-]*:[!-~]+$ && $name != *,* ]] &&
            [ ${#name} -le 255 ]
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
        positive "$1" "$2"
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
    --client-san)
        need_arg "$1" $#
        valid_san "$2" uri ||
            die "--client-san '$2' is not DNS:host.name, IP:address or URI:scheme:rest (e.g. URI:spiffe://example.org/app)"
        client_sans+=("$2")
        shift 2
        ;;
    --client-cn)
        need_arg "$1" $#
        [[ $2 =~ ^[A-Za-z0-9._@-]{1,64}$ ]] ||
            die "--client-cn wants 1-64 letters, digits, '.', '_', '@' or '-', not '$2'"
        client_cn=$2
        shift 2
        ;;
    --key-type)
        need_arg "$1" $#
        case $2 in
        ecdsa | rsa | ed25519) key_type=$2 ;;
        *) die "--key-type wants ecdsa, rsa or ed25519, not '$2'" ;;
        esac
        shift 2
        ;;
    --force)
        force=1
        shift
        ;;
    --ca-dir)
        need_arg "$1" $#
        ca_dir=$2
        shift 2
        ;;
    --issue)
        need_arg "$1" $#
        case $2 in
        server | client) issue=$2 ;;
        *) die "--issue wants server or client, not '$2'" ;;
        esac
        shift 2
        ;;
    --name)
        need_arg "$1" $#
        [[ $2 =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ && $2 != ca ]] ||
            die "--name wants 1-64 letters, digits, '.', '_' or '-' (not 'ca'), not '$2'"
        name=$2
        shift 2
        ;;
    --renew)
        renew=1
        shift
        ;;
    --within)
        need_arg "$1" $#
        [[ $2 =~ ^[0-9]{1,5}$ ]] ||
            die "--within wants a number of days (0-99999), not '$2'"
        within=$2
        shift 2
        ;;
    --revoke)
        need_arg "$1" $#
        revoke=$2
        shift 2
        ;;
    --gen-crl)
        gen_crl=1
        shift
        ;;
    --crl-url)
        need_arg "$1" $#
        [[ $2 =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$ ]] ||
            die "--crl-url wants an http:// or https:// URL (letters, digits, . _ ~ / -), not '$2'"
        crl_url=$2
        shift 2
        ;;
    --crl-days)
        need_arg "$1" $#
        positive "$1" "$2"
        crl_days=$2
        shift 2
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

actions=$(((${issue:+1} + 0) + renew + (${revoke:+1} + 0) + gen_crl))
if [ -z "$ca_dir" ]; then
    [ "$actions" -eq 0 ] ||
        die "--issue, --renew, --revoke and --gen-crl need --ca-dir DIR: the CA to use"
    [ -z "$name" ] || die "--name goes with --issue"
    out=${out:-certs}
else
    [ "$actions" -eq 1 ] ||
        die "with --ca-dir, give exactly one of --issue, --renew, --revoke, --gen-crl"
    if [ ! -f "$ca_dir/ca.crt" ] || [ ! -f "$ca_dir/ca.key" ]; then
        die "$ca_dir holds no ca.crt and ca.key: make a CA first ($self --out $ca_dir)"
    fi
    out=${out:-$ca_dir}
fi

cdp=$crl_url
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# put SRC DEST MODE: copy into a temporary file next to DEST, then rename:
# readers (a reloading server) see the old file or the new one, whole.
put() {
    local src=$1 dest=$2 mode=$3 t
    t=$(mktemp "$(dirname "$dest")/.$(basename "$dest").XXXXXX") ||
        die "cannot write in $(dirname "$dest")"
    if ! cat "$src" >"$t" || ! chmod "$mode" "$t" || ! mv -f "$t" "$dest"; then
        rm -f "$t"
        die "cannot write $dest"
    fi
}

genkey() { # file, key type
    local args
    case $2 in
    ecdsa) args=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
    rsa) args=(-algorithm RSA -pkeyopt rsa_keygen_bits:3072) ;;
    ed25519) args=(-algorithm ED25519) ;;
    esac
    openssl genpkey "${args[@]}" -out "$1" 2>"$tmp/err" || {
        cat "$tmp/err" >&2
        die "could not generate a $2 key"
    }
}

# The digest option for signing with the CA's key: none for Ed25519.
ca_md() {
    if openssl pkey -in "$1" -noout -text 2>/dev/null | head -1 | grep -q ED25519; then
        echo ""
    else
        echo "-sha256"
    fi
}

join_sans() {
    local IFS=,
    echo "$*"
}

# leaf DIR NAME CN ROLE KEYTYPE CA.crt CA.key SANS...: NAME.crt and
# NAME.key in DIR (a scratch directory), checked against the CA; with
# the CRL distribution point $cdp (the caller's --crl-url, or a renewed
# certificate's own) when set.
leaf() {
    local dir=$1 base=$2 cn=$3 role=$4 kt=$5 cacrt=$6 cakey=$7
    shift 7
    local eku=serverAuth san_line md
    [ "$role" = server ] || eku=clientAuth
    san_line=$(join_sans "$@")
    md=$(ca_md "$cakey")
    genkey "$dir/$base.key" "$kt"
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature"
        echo "extendedKeyUsage=$eku"
        echo "subjectKeyIdentifier=hash"
        echo "authorityKeyIdentifier=keyid,issuer"
        [ -z "$san_line" ] || echo "subjectAltName=$san_line"
        [ -z "${cdp:-}" ] || echo "crlDistributionPoints=URI:$cdp"
    } >"$dir/$base.ext"
    # shellcheck disable=SC2086 # $md is empty or one word
    if ! openssl req -new -key "$dir/$base.key" \
        -subj "/O=bitstuff/CN=$cn" -out "$dir/$base.csr" 2>"$tmp/err" ||
        ! openssl x509 -req $md -in "$dir/$base.csr" -days "$days" \
            -CA "$cacrt" -CAkey "$cakey" -CAcreateserial \
            -CAserial "$tmp/ca.srl" -extfile "$dir/$base.ext" \
            -out "$dir/$base.crt" 2>"$tmp/err"; then
        cat "$tmp/err" >&2
        die "could not make the $base certificate"
    fi
    openssl verify -CAfile "$cacrt" "$dir/$base.crt" >/dev/null \
        2>"$tmp/err" || {
        cat "$tmp/err" >&2
        die "the new $base certificate does not verify against the CA"
    }
}

default_name() { # role, key type
    if [ "$2" = ecdsa ]; then echo "$1"; else echo "$1-$2"; fi
}

# ---- a new CA with a server and a client certificate -------------------
new_set() {
    local files f existing=()
    local sname cname
    sname=$(default_name server "$key_type")
    cname=$(default_name client "$key_type")
    files=(ca.crt ca.key "$sname.crt" "$sname.key" "$cname.crt" "$cname.key")
    if [ "$force" != 1 ]; then
        for f in "${files[@]}"; do
            [ ! -e "$out/$f" ] || existing+=("$out/$f")
        done
        [ ${#existing[@]} -eq 0 ] ||
            die "refusing to overwrite ${existing[*]}: pass --force to replace them"
    fi
    mkdir -p "$out" || die "cannot create directory '$out'"
    genkey "$tmp/ca.key" "$key_type"
    # shellcheck disable=SC2046 # ca_md prints nothing or one word
    openssl req -x509 -new $(ca_md "$tmp/ca.key") -key "$tmp/ca.key" -days "$days" \
        -subj "/O=bitstuff/CN=bitstuff local test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" \
        -addext "authorityKeyIdentifier=keyid:always" \
        -out "$tmp/ca.crt" 2>"$tmp/err" || {
        cat "$tmp/err" >&2
        die "could not make the CA certificate"
    }
    leaf "$tmp" "$sname" localhost server "$key_type" "$tmp/ca.crt" "$tmp/ca.key" "${sans[@]}"
    leaf "$tmp" "$cname" "$client_cn" client "$key_type" "$tmp/ca.crt" "$tmp/ca.key" \
        ${client_sans[@]+"${client_sans[@]}"}
    for f in "${files[@]}"; do
        case $f in
        *.key) put "$tmp/$f" "$out/$f" 0600 ;;
        *) put "$tmp/$f" "$out/$f" 0644 ;;
        esac
    done
    cat <<EOF
Made in $out/ (valid for $days days, $key_type keys):
  ca.crt      the local CA certificate: give it to clients (--ca-file)
  ca.key      the CA's private key (0600): signs the two below; keep it secret
  $sname.crt  server certificate for $(join_sans "${sans[@]}")
  $sname.key  its private key (0600)
  $cname.crt  client certificate for mutual TLS, CN=$client_cn
  $cname.key  its private key (0600)

Server:
  bitstuffd --cert $out/$sname.crt --key $out/$sname.key
Client:
  bitstuff --ca-file $out/ca.crt
Mutual TLS: the server trusts $out/ca.crt for client certificates and the
client presents $out/$cname.crt with $out/$cname.key (see each --help).
By hand:
  openssl s_client -quiet -connect localhost:55000 -CAfile $out/ca.crt
Later: new certificates from this CA, renewal, revocation:
  $self --ca-dir $out --issue server|client
  $self --ca-dir $out --renew
  $self --ca-dir $out --revoke $out/$cname.crt
EOF
}

# ---- issue one certificate from an existing CA -------------------------
issue_one() {
    local base=${name:-$(default_name "$issue" "$key_type")}
    if [ "$force" != 1 ]; then
        local f
        for f in "$out/$base.crt" "$out/$base.key"; do
            [ ! -e "$f" ] ||
                die "refusing to overwrite $f: pass --force to replace it, or --name for another"
        done
    fi
    mkdir -p "$out" || die "cannot create directory '$out'"
    if [ "$issue" = server ]; then
        leaf "$tmp" "$base" localhost server "$key_type" "$ca_dir/ca.crt" "$ca_dir/ca.key" "${sans[@]}"
    else
        leaf "$tmp" "$base" "$client_cn" client "$key_type" "$ca_dir/ca.crt" "$ca_dir/ca.key" \
            ${client_sans[@]+"${client_sans[@]}"}
    fi
    # the key first: a server reloading between the two renames finds a
    # key that does not match and keeps its old pair
    put "$tmp/$base.key" "$out/$base.key" 0600
    put "$tmp/$base.crt" "$out/$base.crt" 0644
    echo "Issued $out/$base.crt ($issue, $key_type, serial" \
        "$(openssl x509 -in "$out/$base.crt" -noout -serial | cut -d= -f2)," \
        "valid $days days) with its key $out/$base.key"
}

# ---- renew what is due -------------------------------------------------
cert_field() { # file, what: role, cn, keytype, sans
    local f=$1
    case $2 in
    role)
        if openssl x509 -in "$f" -noout -ext extendedKeyUsage 2>/dev/null |
            grep -q "TLS Web Server Authentication"; then
            echo server
        else
            echo client
        fi
        ;;
    cn)
        openssl x509 -in "$f" -noout -subject -nameopt sep_multiline,sname |
            sed -n 's/^ *CN=//p' | head -1
        ;;
    keytype)
        case $(openssl x509 -in "$f" -noout -text | sed -n 's/^ *Public Key Algorithm: //p' | head -1) in
        rsaEncryption) echo rsa ;;
        ED25519) echo ed25519 ;;
        *) echo ecdsa ;;
        esac
        ;;
    sans)
        openssl x509 -in "$f" -noout -ext subjectAltName 2>/dev/null |
            tail -n +2 | tr ',' '\n' | sed -e 's/^ *//' -e 's/^IP Address:/IP:/' |
            grep -E '^(DNS|IP|URI):' || true
        ;;
    esac
}

renew_due() {
    local f base n=0 due=0 secs=$((within * 86400))
    local -a names
    for f in "$out"/*.crt; do
        [ -e "$f" ] || continue
        base=$(basename "$f" .crt)
        [ "$base" != ca ] || continue
        if ! openssl verify -no_check_time -CAfile "$ca_dir/ca.crt" "$f" >/dev/null 2>&1; then
            echo "skipped $f: not issued by $ca_dir/ca.crt"
            continue
        fi
        n=$((n + 1))
        if openssl x509 -in "$f" -noout -checkend "$secs" >/dev/null; then
            echo "not due: $f ($(openssl x509 -in "$f" -noout -enddate | cut -d= -f2))"
            continue
        fi
        local role cn kt
        role=$(cert_field "$f" role)
        cn=$(cert_field "$f" cn)
        kt=$(cert_field "$f" keytype)
        mapfile -t names < <(cert_field "$f" sans)
        cdp=$(openssl x509 -in "$f" -noout -ext crlDistributionPoints 2>/dev/null |
            sed -n 's/^ *URI://p' | head -1)
        [ -z "$crl_url" ] || cdp=$crl_url
        [ "$role" = client ] || [ ${#names[@]} -gt 0 ] || names=("${sans[@]}")
        leaf "$tmp" "$base" "$cn" "$role" "$kt" "$ca_dir/ca.crt" "$ca_dir/ca.key" \
            ${names[@]+"${names[@]}"}
        put "$tmp/$base.key" "$out/$base.key" 0600
        put "$tmp/$base.crt" "$out/$base.crt" 0644
        due=$((due + 1))
        echo "renewed $f ($role, CN=$cn, $kt, new key, serial" \
            "$(openssl x509 -in "$f" -noout -serial | cut -d= -f2), valid $days days)"
    done
    [ "$n" -gt 0 ] || die "no certificate from $ca_dir/ca.crt in $out to renew"
    echo "$due of $n certificates renewed (due: expiring within $within days)"
}

# ---- revocation --------------------------------------------------------
publish_crl() {
    local idx=$ca_dir/index.txt
    [ -e "$idx" ] || : >"$idx"
    [ -e "$ca_dir/crlnumber" ] || echo 1000 >"$ca_dir/crlnumber"
    [ -e "$idx.attr" ] || echo "unique_subject = no" >"$idx.attr"
    cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = bs
[bs]
database = $idx
crlnumber = $ca_dir/crlnumber
default_md = sha256
default_crl_days = $crl_days
EOF
    local md
    md=$(ca_md "$ca_dir/ca.key")
    [ -n "$md" ] || sed -i 's/^default_md = sha256$/default_md = null/' "$tmp/ca.cnf"
    openssl ca -gencrl -config "$tmp/ca.cnf" -cert "$ca_dir/ca.crt" \
        -keyfile "$ca_dir/ca.key" -out "$tmp/ca.crl" 2>"$tmp/err" || {
        cat "$tmp/err" >&2
        die "could not make the CRL"
    }
    put "$tmp/ca.crl" "$ca_dir/ca.crl" 0644
    echo "Published $ca_dir/ca.crl ($(grep -c '^R' "$idx" || true) revoked," \
        "valid $crl_days days): bitstuffd --crl-file $ca_dir/ca.crl, then SIGHUP"
}

revoke_one() {
    [ -f "$revoke" ] || die "--revoke: no file $revoke"
    openssl x509 -in "$revoke" -noout >/dev/null 2>&1 ||
        die "--revoke: $revoke is not a PEM certificate"
    openssl verify -no_check_time -CAfile "$ca_dir/ca.crt" "$revoke" >/dev/null 2>&1 ||
        die "--revoke: $revoke was not issued by $ca_dir/ca.crt"
    local serial end subj idx=$ca_dir/index.txt now
    serial=$(openssl x509 -in "$revoke" -noout -serial | cut -d= -f2)
    [ -e "$idx" ] || : >"$idx"
    if awk -F'\t' -v s="$serial" '$1 == "R" && $4 == s { f = 1 } END { exit !f }' "$idx"; then
        echo "$revoke (serial $serial) was already revoked"
    else
        end=$(date -u -d "$(openssl x509 -in "$revoke" -noout -enddate | cut -d= -f2)" +%Y%m%d%H%M%SZ)
        now=$(date -u +%Y%m%d%H%M%SZ)
        subj=$(openssl x509 -in "$revoke" -noout -subject -nameopt compat | sed 's/^subject=//')
        cp "$idx" "$tmp/index.txt"
        printf 'R\t%s\t%s\t%s\tunknown\t%s\n' "${end:2}" "${now:2}" "$serial" "$subj" \
            >>"$tmp/index.txt"
        put "$tmp/index.txt" "$idx" 0644
        echo "Revoked $revoke (serial $serial), recorded in $idx"
    fi
    publish_crl
}

if [ -z "$ca_dir" ]; then
    new_set
elif [ -n "$issue" ]; then
    issue_one
elif [ "$renew" = 1 ]; then
    renew_due
elif [ -n "$revoke" ]; then
    revoke_one
else
    publish_crl
fi
