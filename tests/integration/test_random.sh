#!/usr/bin/env bash
# test_random.sh - thousands of random messages, every reply checked
# against a reference: bitstuff-bench (binary and text, pipelined over
# many connections, mixed ops and rules, some invalid), pipeline.py (its
# own Python stuffer, chunked frames mixed with text lines), and the
# client with thousands of arguments and piped lines compared with
# results computed here in Python, independently of the C library.
. "$(dirname "$0")/it.sh"

seed=${BS_IT_SEED:-$((RANDOM * 32768 + RANDOM))}
note "seed $seed (BS_IT_SEED=$seed repeats this run)"
start_server server -q --cert "$CERTS/server.crt" --key "$CERTS/server.key"

note "bench: binary, 20 connections x pipeline 8, mixed, 5% invalid"
bench -n 20 -P 8 -r "$(scaled 50000)" --op mixed --rule mixed -s 0-3000 \
    --errors 0.05 --pool 4096 --seed "$seed" >"$T/bench1" ||
    { cat "$T/bench1"; fail "bench binary run"; }
cat "$T/bench1"

note "bench: text lines, 8 connections x pipeline 4, mixed, 5% invalid"
bench -n 8 -P 4 -r "$(scaled 20000)" --text --op mixed --rule mixed \
    -s 0-2000 --errors 0.05 --pool 4096 --seed "$((seed + 1))" >"$T/bench2" ||
    { cat "$T/bench2"; fail "bench text run"; }
cat "$T/bench2"

note "bench: messages of 1 to 3 MB, streamed in chunks"
bench -n 2 -P 2 -r "$(scaled 8)" --op mixed --rule mixed -s 8000000-24000000 \
    --pool 8 --seed "$((seed + 2))" >"$T/bench3" ||
    { cat "$T/bench3"; fail "bench large messages"; }
cat "$T/bench3"

note "pipeline.py: 4 connections, chunked frames and text lines mixed"
timeout $((120 * IT_TMUL)) python3 "$IT_INTEGRATION/pipeline.py" 127.0.0.1 "$PORT" \
    "$CERTS/ca.crt" --conns 4 --count "$(scaled 400)" --seed "$seed" ||
    fail "pipeline.py found wrong replies"

# The reference, written without the C library: stuffing by regular
# expression for HDLC (a 0 after 11111) and USB (after 111111), a loop
# for CAN (the complement after five equal bits).
cat >"$T/ref.py" <<'PY'
import random, re, sys

def stuff(rule, s):
    if rule == "hdlc":
        return re.sub("11111", "111110", s)
    if rule == "usb":
        return re.sub("111111", "1111110", s)
    out, run, last = [], 0, None
    for c in s:
        out.append(c)
        run = run + 1 if c == last else 1
        last = c
        if run == 5:
            last = "1" if c == "0" else "0"
            out.append(last)
            run = 1
    return "".join(out)

def gen(rng, n, maxlen):
    msgs = []
    for _ in range(n):
        p = rng.choice([0.5, 0.8, 0.95, 0.05])
        k = rng.choice([1, 5, 6, 7, rng.randrange(1, maxlen)])
        msgs.append("".join("1" if rng.random() < p else "0" for _ in range(k)))
    return msgs

cmd, rule, seed, n, maxlen = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])
msgs = gen(random.Random(seed), n, maxlen)
if cmd == "msgs":
    print("\n".join(msgs))
elif cmd == "stuffed":
    print("\n".join(stuff(rule, m) for m in msgs))
PY
ref() { python3 "$T/ref.py" "$@"; }

n=$(scaled 3000)
note "client: $n random messages as arguments (hdlc), against the reference"
ref msgs hdlc "$seed" "$n" 200 >"$T/msgs"
ref stuffed hdlc "$seed" "$n" 200 >"$T/want"
mapfile -t args <"$T/msgs"
cli -q "${args[@]}" >"$T/got" || fail "client with $n arguments"
cmp "$T/got" "$T/want" || fail "client arguments: replies differ from the reference"

for rule in hdlc usb can; do
    note "client: $n random lines on stdin, --rule $rule, stuff and back"
    ref msgs "$rule" "$((seed + 3))" "$n" 2000 >"$T/msgs"
    ref stuffed "$rule" "$((seed + 3))" "$n" 2000 >"$T/want"
    cli -q --rule "$rule" <"$T/msgs" >"$T/got" ||
        fail "client stdin, --rule $rule"
    cmp "$T/got" "$T/want" ||
        fail "client stdin --rule $rule: replies differ from the reference"
    cli -q -u --rule "$rule" <"$T/want" >"$T/back" ||
        fail "client stdin -u, --rule $rule"
    cmp "$T/back" "$T/msgs" || fail "unstuff --rule $rule did not give back the input"
done

note "client: the full output format for many messages"
ref msgs hdlc "$((seed + 4))" 500 100 >"$T/msgs"
ref stuffed hdlc "$((seed + 4))" 500 100 >"$T/want"
cli <"$T/msgs" >"$T/got" || fail "client stdin, full output"
paste -d '\n' <(sed 's/^/sent: /' "$T/msgs") <(sed 's/^/received: /' "$T/want") \
    >"$T/want_full"
cmp "$T/got" "$T/want_full" || fail "sent:/received: lines differ"

stop_server_ok "$SERVER_PID"
echo "PASS"
