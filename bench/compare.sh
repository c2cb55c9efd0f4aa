#!/usr/bin/env bash
# compare.sh - bitstuffd against the alternatives, in one run, on loopback:
#
#   - stunnel4 terminating TLS in front of a plain-TCP stuffing server that
#     uses the same library and request path (bench/baseline_tcp_server.c),
#     driven by the same load generator (bitstuff-bench): small messages,
#     pipelined load, one 100 MB message;
#   - full handshakes/s against `openssl s_server` and nginx, all measured
#     with `openssl s_time -new`, and server CPU per handshake against
#     libssl's own in-memory cost (bench/hs_inmem.c);
#   - memory per idle TLS connection against nginx (10,000 each, the same
#     holder bench/tls_idle.c for both);
#   - 10,000 concurrent connections held by one bitstuffd, each answered.
#
#   bench/compare.sh            the full run (about 3-5 minutes)
#   bench/compare.sh --quick    smaller counts, one round (about 1 minute)
#   BS_BUILD=DIR                build directory (default build-compare)
#
# Installs what it needs (stunnel4, nginx-light, openssl) through
# scripts/deps.sh and builds a Release build.  Prints each figure as it is
# measured, then a markdown table for README.  Figures are the median of
# the rounds, ours and the baseline alternating; a ratio is the median of
# the rounds' ratios.  Exit status 0 if every run completed with every
# reply checked (a missed target is reported, not an error), 1 otherwise.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0
for arg in "$@"; do
    case $arg in
    --quick) quick=1 ;;
    -h | --help)
        sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "compare.sh: unknown argument '$arg' (try --help)" >&2
        exit 1
        ;;
    esac
done

if [ "$quick" = 1 ]; then
    rounds=1 small_reqs=5000 pipe_reqs=100000 bulk_bits=800000000
    hs_secs=2 idle_conns=2000 held_conns=2000
else
    rounds=5 small_reqs=20000 pipe_reqs=400000 bulk_bits=800000000
    hs_secs=5 idle_conns=10000 held_conns=10000
fi
stime_clients=4 # parallel `openssl s_time` processes

# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"
bs_need_packages "${BS_BUILD_PACKAGES[@]}" "${BS_BENCH_PACKAGES[@]}"
command -v nginx >/dev/null 2>&1 || bs_need_packages nginx-light
NGINX=$(command -v nginx)

build=${BS_BUILD:-$root/build-compare}
echo "== build (Release) in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target bitstuffd bitstuff-bench \
    baseline_tcp_server hs_inmem tls_idle >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/bs-compare.XXXXXX")
PIDS=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null || true
    done
    sleep 0.2
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() {
    echo "compare.sh: $*" >&2
    exit 1
}

# Both ends hold over 10,000 sockets.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" -lt $((held_conns + 500)) ]; then
    die "'ulimit -n' is $(ulimit -n); need $((held_conns + 500)) (run as root or raise the hard limit)"
fi

bash "$root/scripts/gen-certs.sh" --out "$work/certs" >/dev/null
CRT=$work/certs/server.crt KEY=$work/certs/server.key CA=$work/certs/ca.crt
HZ=$(getconf CLK_TCK)

# A port no socket uses, below the ephemeral range: the 10,000 idle
# connections leave their client ports in TIME_WAIT, where a server could
# not bind (never 4433, which testssl.sh probes).
low_ephemeral=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null ||
    echo 32768)
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % (low_ephemeral - 20000)))
        [ "$p" = 4433 ] && continue
        if ! ss -Htan "sport = :$p" | grep -q .; then
            echo "$p"
            return 0
        fi
    done
    die "no free port found"
}

wait_port() { # port name [log]: bounded wait until something listens there
    for _ in $(seq 1 100); do
        ss -Htln "sport = :$1" | grep -q . && return 0
        sleep 0.05
    done
    [ -n "${3:-}" ] && [ -f "$3" ] && cat "$3" >&2
    die "$2 did not listen on port $1 within 5 s"
}

# Wait (bounded) for a line matching a pattern in a log; print group 1.
wait_log() { # file sed-regex name
    local v
    for _ in $(seq 1 100); do
        v=$(sed -n "s/$2/\1/p" "$1" | head -1)
        [ -n "$v" ] && { echo "$v"; return 0; }
        sleep 0.05
    done
    cat "$1" >&2
    die "$3 did not start"
}

start_bitstuffd() { # sets BSD_PID, BSD_PORT
    "$build/bitstuffd" -q -l 127.0.0.1:0 --cert "$CRT" --key "$KEY" \
        --max-conns 30000 >"$work/bitstuffd.$1.log" 2>&1 &
    BSD_PID=$!
    PIDS+=("$BSD_PID")
    BSD_PORT=$(wait_log "$work/bitstuffd.$1.log" \
        '.*listening on 127\.0\.0\.1:\([0-9]*\).*' bitstuffd)
}

start_nginx() { # sets NGX_PID (master), NGX_PORT
    NGX_PORT=$(free_port)
    mkdir -p "$work/nginx.$1"
    cat >"$work/nginx.$1/nginx.conf" <<EOF
daemon off;
worker_processes $(nproc);
worker_rlimit_nofile 40000;
pid $work/nginx.$1/nginx.pid;
error_log $work/nginx.$1/error.log warn;
events { worker_connections 30000; }
http {
    access_log off;
    client_body_temp_path $work/nginx.$1;
    proxy_temp_path $work/nginx.$1;
    fastcgi_temp_path $work/nginx.$1;
    uwsgi_temp_path $work/nginx.$1;
    scgi_temp_path $work/nginx.$1;
    client_header_timeout 300s;
    keepalive_timeout 300s;
    server {
        listen 127.0.0.1:$NGX_PORT ssl;
        ssl_certificate $CRT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.3;
        location / { return 200 "ok\n"; }
    }
}
EOF
    "$NGINX" -p "$work/nginx.$1" -e "$work/nginx.$1/error.log" \
        -c "$work/nginx.$1/nginx.conf" >"$work/nginx.$1/out.log" 2>&1 &
    NGX_PID=$!
    PIDS+=("$NGX_PID")
    wait_port "$NGX_PORT" nginx "$work/nginx.$1/error.log"
}

children() { ps -o pid= --ppid "$1" | tr -d ' '; }

# CPU ticks (user + system, all threads) of the given processes.
cpu_ticks() {
    local p t=0
    for p in "$@"; do
        t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
    done
    echo "$t"
}

rss_kib() { # sum of VmRSS
    local p t=0
    for p in "$@"; do
        t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status")))
    done
    echo "$t"
}

jget() { grep -o "\"$2\":[0-9.]*" "$1" | head -1 | cut -d: -f2; }

bench() { # out-file port bitstuff-bench-args...
    local out=$1 port=$2
    shift 2
    if ! timeout 300 "$build/bitstuff-bench" -c "127.0.0.1:$port" \
        --ca-file "$CA" --json -q "$@" >"$out" 2>"$out.err"; then
        cat "$out.err" "$out" >&2
        die "bitstuff-bench $* against port $port failed (see above)"
    fi
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
calc() { awk "BEGIN {printf \"%.${2:-2}f\", ($1)}"; }

ROWS=()
row() { # figure ours baseline ratio target met
    ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |")
    printf '   %-44s ours %-12s baseline %-12s ratio %-6s target %-10s %s\n' \
        "$1" "$2" "$3" "$4" "$5" "$6"
}
yes_no() { awk "BEGIN {print ($1) ? \"yes\" : \"**no**\"}"; }

# ---------------------------------------------------------------------------
echo "== servers"
start_bitstuffd main
BASE_LOG=$work/baseline.log
"$build/baseline_tcp_server" -l 127.0.0.1:0 >"$BASE_LOG" 2>&1 &
PIDS+=("$!")
BASE_PORT=$(wait_log "$BASE_LOG" '.*listening on 127\.0\.0\.1:\([0-9]*\).*' \
    baseline_tcp_server)
ST_PORT=$(free_port)
cat >"$work/stunnel.conf" <<EOF
foreground = yes
pid =
debug = 3
output = $work/stunnel.log
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
[bitstuff]
accept = 127.0.0.1:$ST_PORT
connect = 127.0.0.1:$BASE_PORT
cert = $CRT
key = $KEY
sslVersionMin = TLSv1.3
EOF
stunnel4 "$work/stunnel.conf" >"$work/stunnel.out" 2>&1 &
ST_PID=$!
PIDS+=("$ST_PID")
wait_port "$ST_PORT" stunnel4
echo "   bitstuffd :$BSD_PORT  stunnel4 :$ST_PORT -> baseline :$BASE_PORT"

# Throughput scenario: rounds of (ours, baseline); medians.
scenario() { # name bench-args...
    local name=$1 r
    shift
    # One untimed run each first: stunnel's throughput depends on what
    # its allocator has kept from earlier connections (a cold 100 MB
    # transfer ran at half the speed of a warm one), so both sides are
    # measured warm.
    bench "$work/$name.warm.ours" "$BSD_PORT" "$@"
    bench "$work/$name.warm.base" "$ST_PORT" "$@"
    for r in $(seq 1 "$rounds"); do
        bench "$work/$name.ours.$r" "$BSD_PORT" "$@"
        bench "$work/$name.base.$r" "$ST_PORT" "$@"
    done
}
med() { # name ours|base key
    local r v=""
    for r in $(seq 1 "$rounds"); do
        v="$v $(jget "$work/$1.$2.$r" "$3")"
    done
    echo "      $2 $3 by round:$v" >&2
    echo "$v" | median
}
# The ratio column: the median of each round's ratio, ours over the
# baseline measured right after it, which cancels most of the drift.
rmed() { # name key
    local r v=""
    for r in $(seq 1 "$rounds"); do
        v="$v $(calc "$(jget "$work/$1.ours.$r" "$2") / $(jget "$work/$1.base.$r" "$2")" 3)"
    done
    echo "      ratio $2 by round:$v" >&2
    echo "$v" | median
}
# The same for two files of one figure per line (per round).
rmed_files() { # ours-file base-file column
    paste -d' ' <(cut -d' ' -f"$3" "$1") <(cut -d' ' -f"$3" "$2") |
        awk '{printf "%.3f\n", $1 / $2}' | median
}

# scenario_row NAME KEY FIGURE DIGITS TARGET: the table's row FIGURE for
# KEY of scenario NAME: the medians of ours and of the baseline (rounded
# to DIGITS decimals; DIGITS empty: as measured), the median ratio, and
# whether the ratio meets TARGET (an awk comparison such as ">= 2").
scenario_row() {
    local a b q
    a=$(med "$1" ours "$2") b=$(med "$1" base "$2") q=$(rmed "$1" "$2")
    if [ -n "$4" ]; then
        a=$(calc "$a" "$4") b=$(calc "$b" "$4")
    fi
    row "$3" "$a" "$b" "$(calc "$q")" "$5" "$(yes_no "$q $5")"
}

echo "== small messages: 64 bits, 1 connection, not pipelined"
scenario small -n 1 -r "$small_reqs" -s 64
scenario_row small requests_per_sec "64-bit requests/s, 1 conn" 0 ">= 1.8"
scenario_row small p99 "64-bit p99 latency ms, 1 conn" "" "< 1"

echo "== pipelined: 50 connections, pipeline 16, 64 bits"
scenario pipe -n 50 -P 16 -r "$pipe_reqs" -s 64
scenario_row pipe requests_per_sec "64-bit requests/s, 50 conns -P 16" 0 \
    ">= 3"
scenario_row pipe p99 "p99 latency ms, 50 conns -P 16" "" "< 1"

echo "== one 100 MB message"
scenario bulk -n 1 -r 1 -s "$bulk_bits"
scenario_row bulk mb_per_sec "one 100 MB message, MB/s" 0 ">= 2"

# ---------------------------------------------------------------------------
echo "== full handshakes (TLS 1.3, X25519, ECDSA P-256)"
# libssl's own cost in memory (no ticket, and one ticket as bitstuffd
# issues), then bitstuffd's CPU under the load generator, 8 new
# connections at a time; in rounds, because the CPU time a thread is
# charged drifts with what the machine's other tenants do.
for r in $(seq 1 "$rounds"); do
    "$build/hs_inmem" "$CRT" "$KEY" 1000 0 |
        sed -n 's/server_us_per_handshake //p' >>"$work/inmem0"
    "$build/hs_inmem" "$CRT" "$KEY" 1000 1 |
        sed -n 's/server_us_per_handshake //p' >>"$work/inmem1"
    t0=$(cpu_ticks "$BSD_PID")
    bench "$work/hs.ours.$r" "$BSD_PORT" --new-conn --resume off -n 8 \
        -d "$hs_secs"
    t1=$(cpu_ticks "$BSD_PID")
    hs=$(jget "$work/hs.ours.$r" handshakes)
    echo "$(calc "($t1 - $t0) * 1000000 / $HZ / $hs" 0)" >>"$work/hs.cpu"
    jget "$work/hs.ours.$r" handshakes_per_sec >>"$work/hs.rate"
done
for f in inmem0 inmem1 hs.cpu hs.rate; do
    echo "      $f by round: $(tr '\n' ' ' <"$work/$f")" >&2
done
inmem=$(median <"$work/inmem0") inmem1=$(median <"$work/inmem1")
cpu_us=$(median <"$work/hs.cpu") hs_rate=$(median <"$work/hs.rate")
echo "   libssl in memory, server side: $inmem us per handshake ($inmem1 us with one ticket, as bitstuffd)"
echo "   bitstuff-bench --new-conn --resume off: $hs_rate/s, server CPU $cpu_us us per handshake"

# The same tool for every server: parallel `openssl s_time -new`.
stime() { # port -> "connections/s connections" (sums over the clients)
    local i total=0 secs=0 n s
    local pids=()
    for i in $(seq 1 "$stime_clients"); do
        timeout $((hs_secs + 30)) openssl s_time -connect "127.0.0.1:$1" \
            -new -time "$hs_secs" >"$work/stime.$1.$i" 2>&1 &
        pids+=("$!")
    done
    for i in "${pids[@]}"; do
        wait "$i" 2>/dev/null || true
    done
    for i in $(seq 1 "$stime_clients"); do
        read -r n s < <(sed -n \
            's/^\([0-9]*\) connections in \([0-9.]*\) real seconds.*/\1 \2/p' \
            "$work/stime.$1.$i")
        [ -n "${n:-}" ] || {
            cat "$work/stime.$1.$i" >&2
            die "openssl s_time against port $1 printed no result"
        }
        total=$((total + n))
        secs=$(calc "$secs > $s ? $secs : $s" 3)
    done
    echo "$(calc "$total / $secs" 0) $total"
}

SS_PORT=$(free_port)
openssl s_server -quiet -www -accept "127.0.0.1:$SS_PORT" -cert "$CRT" \
    -key "$KEY" -tls1_3 </dev/null >"$work/s_server.log" 2>&1 &
SS_PID=$!
PIDS+=("$SS_PID")
start_nginx hs
wait_port "$SS_PORT" "openssl s_server"
NGX_WORKERS=$(children "$NGX_PID")

# Rounds of (bitstuffd, s_server, nginx), medians: the machine's speed
# drifts by more than the differences measured here.
hs_one() { # name port pids... -> appends "rate cpu_us" to $work/hs.NAME
    local name=$1 port=$2 t0 t1 out rate total
    shift 2
    t0=$(cpu_ticks "$@")
    out=$(stime "$port")
    t1=$(cpu_ticks "$@")
    read -r rate total <<<"$out"
    echo "$rate $(calc "($t1 - $t0) * 1000000 / $HZ / $total" 0)" \
        >>"$work/hs.st.$name"
}
for _ in $(seq 1 "$rounds"); do
    hs_one ours "$BSD_PORT" "$BSD_PID"
    hs_one ss "$SS_PORT" "$SS_PID"
    # shellcheck disable=SC2086
    hs_one ngx "$NGX_PORT" $NGX_WORKERS
done
hs_med() { # name column
    echo "      $1 s_time $([ "$2" = 1 ] && echo rate || echo cpu_us) by round:" \
        "$(cut -d' ' -f"$2" "$work/hs.st.$1" | tr '\n' ' ')" >&2
    cut -d' ' -f"$2" "$work/hs.st.$1" | median
}
st_ours=$(hs_med ours 1) cpu_ours_st=$(hs_med ours 2)
st_ss=$(hs_med ss 1) cpu_ss=$(hs_med ss 2)
st_ngx=$(hs_med ngx 1) cpu_ngx=$(hs_med ngx 2)
echo "   s_time -new x$stime_clients: bitstuffd $st_ours/s ($cpu_ours_st us CPU), s_server $st_ss/s ($cpu_ss us), nginx $st_ngx/s ($cpu_ngx us)"
q=$(rmed_files "$work/hs.st.ours" "$work/hs.st.ngx" 1)
row "handshakes/s (s_time -new) vs nginx" "$st_ours" "$st_ngx" \
    "$(calc "$q")" ">= 1" "$(yes_no "$q >= 1")"
q=$(rmed_files "$work/hs.st.ours" "$work/hs.st.ss" 1)
row "handshakes/s (s_time -new) vs s_server" "$st_ours" "$st_ss" \
    "$(calc "$q")" "-" "-"
row "handshakes/s (bitstuff-bench -n 8)" "$hs_rate" "-" "-" "-" "-"
q=$(rmed_files "$work/hs.cpu" "$work/inmem0" 1)
row "server CPU us/handshake vs libssl in memory" "$cpu_us" "$inmem" \
    "$(calc "$q")" "<= 1.4" "$(yes_no "$q <= 1.4")"
q=$(rmed_files "$work/hs.cpu" "$work/inmem1" 1)
row "same, libssl in memory with one ticket" "$cpu_us" "$inmem1" \
    "$(calc "$q")" "-" "-"
q=$(rmed_files "$work/hs.st.ours" "$work/hs.st.ngx" 2)
row "server CPU us/handshake (s_time) vs nginx" "$cpu_ours_st" "$cpu_ngx" \
    "$(calc "$q")" "-" "-"
kill -TERM "$SS_PID" "$NGX_PID" 2>/dev/null || true

# ---------------------------------------------------------------------------
echo "== memory per idle TLS connection ($idle_conns each, fresh servers)"
idle_mem() { # port alpn pids... -> KiB per connection
    local port=$1 alpn=$2 before after holder
    shift 2
    sleep 0.3
    before=$(rss_kib "$@")
    "$build/tls_idle" 127.0.0.1 "$port" "$idle_conns" "$alpn" \
        >"$work/idle.$port" 2>&1 &
    holder=$!
    PIDS+=("$holder")
    for _ in $(seq 1 1200); do
        grep -q '^open' "$work/idle.$port" && break
        kill -0 "$holder" 2>/dev/null || break
        sleep 0.05
    done
    grep -q '^open' "$work/idle.$port" || {
        cat "$work/idle.$port" >&2
        die "could not open $idle_conns idle connections to port $port"
    }
    sleep 0.5
    after=$(rss_kib "$@")
    kill -TERM "$holder"
    wait "$holder" 2>/dev/null || true
    echo "   port $port: RSS $before -> $after KiB" >&2
    calc "($after - $before) / $idle_conns" 1
}
kill -TERM "$BSD_PID"
wait "$BSD_PID" 2>/dev/null || true
start_bitstuffd idle
mem_ours=$(idle_mem "$BSD_PORT" bitstuff/1 "$BSD_PID")
start_nginx idle
# shellcheck disable=SC2046
mem_ngx=$(idle_mem "$NGX_PORT" http/1.1 $(children "$NGX_PID"))
row "KiB per idle TLS connection vs nginx http" "$mem_ours" "$mem_ngx" \
    "$(calc "$mem_ours/$mem_ngx")" "<= 16 KiB" "$(yes_no "$mem_ours <= 16")"
kill -TERM "$NGX_PID" 2>/dev/null || true

# ---------------------------------------------------------------------------
echo "== $held_conns concurrent connections, each answered"
bench "$work/held" "$BSD_PORT" --idle "$held_conns" -n 10 -r 20000
held_ok=$(jget "$work/held" idle_ok)
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$BSD_PID/status")
echo "   $held_ok of $held_conns idle connections answered; bitstuffd VmHWM $hwm KiB"
row "concurrent TLS connections, all answered" "$held_ok" "-" "-" \
    ">= 10000" "$(yes_no "$held_ok >= 10000")$([ "$quick" = 1 ] &&
        echo ' (--quick: '"$held_conns"')')"

# ---------------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo
echo "### bitstuffd vs stunnel4 + plain server, openssl s_server, nginx"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $cpu, $(nproc) CPUs," \
    "$(openssl version | cut -d' ' -f1-2), $(stunnel4 -version 2>&1 |
        sed -n 's/^stunnel \([0-9.]*\).*/stunnel \1/p' | head -1)," \
    "$("$NGINX" -v 2>&1 | sed 's/.*: //'); loopback, client on the same" \
    "CPUs; \`bench/compare.sh$([ "$quick" = 1 ] && echo ' --quick')\`" \
    "(median of $rounds round(s))."
echo
echo "| figure | ours | baseline | ratio | target | met? |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
