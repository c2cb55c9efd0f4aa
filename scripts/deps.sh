# shellcheck shell=bash
# deps.sh - sourced by the other scripts: install missing Debian packages.
#
#   bs_need_packages PKG...   installs those not yet installed, with apt-get
#                             (as root, or through sudo); elsewhere it names
#                             them and fails.

bs_need_packages() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0

    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: missing packages: ${missing[*]}" >&2
        echo "This script installs them with apt-get on Debian or Ubuntu;" \
            "install the equivalents with your package manager and rerun." >&2
        return 1
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "error: missing packages: ${missing[*]}; run this script" \
                "as root or install sudo" >&2
            return 1
        fi
    fi
    echo "== installing: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
        return 1
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}" || return 1
}

# What building and testing needs on a fresh Debian 12 machine.
BS_BUILD_PACKAGES=(build-essential cmake pkg-config libssl-dev libcmocka-dev
    openssl ca-certificates)
# ctest's TLS audits need sslscan and testssl.sh (skipped, not failed,
# without them, so the test command installs them).
# tshark: the Wireshark dissector's test (tests/integration/test_dissector.sh).
# systemd: systemd-socket-activate for test_sdnotify and it_activation,
# systemd-analyze for it_units (these two fail without it); haproxy: real
# PROXY protocol headers for test_proxy_haproxy (skipped without it), and
# it_fleet; python3-yaml reads contrib/k8s for k8s_manifests (skipped
# without it).  mandoc: the manual pages' lint test; dpkg-dev and file:
# cpack -G DEB (dpkg-shlibdeps) in the package test (tests/install).
BS_TEST_PACKAGES=(clang libclang-rt-14-dev sslscan testssl.sh python3 valgrind
    tshark systemd haproxy mandoc dpkg-dev file python3-yaml)
# bench/compare.sh (nginx-light too, unless an nginx is installed).
BS_BENCH_PACKAGES=(stunnel4 openssl iproute2 procps)
# scripts/tls-audit.sh.
BS_AUDIT_PACKAGES=(sslscan testssl.sh)
