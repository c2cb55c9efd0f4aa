#!/usr/bin/env bash
# test_verbose.sh - -v in the spirit of curl -v (issue 13): the client
# shows each handshake message, the version, group, ALPN, SNI and
# resumption, the server's chain with the SHA-256 fingerprint openssl
# gives, and what it checked; -vv adds the record headers; a failed
# handshake still shows the chain it got; the server's -v shows each
# client's handshake with the peer in front of every line.
. "$(dirname "$0")/it.sh"

example=0101111110011111001010
start_server server --cert "$CERTS/server.crt" --key "$CERTS/server.key" -v
log=$T/server.log
peer='\[127\.0\.0\.1:[0-9]+\]'
fp=$(openssl x509 -in "$CERTS/server.crt" -noout -fingerprint -sha256)
fp=${fp#*=}

note "client -v: the handshake as it happens, then the facts"
cli -v "$example" >"$T/v.out" 2>"$T/v.err"
expect_grep "the result still on stdout" "$T/v.out" "^received: 010111110100111110001010\$"
for m in '> ClientHello \(' '< ServerHello \(' '< EncryptedExtensions \(' \
    '< Certificate \(' '< CertificateVerify \(' '< Finished \(' '> Finished \('; do
    expect_grep "message $m" "$T/v.err" "^${m}[0-9]+ bytes\\)\$"
done
expect_grep "today's line" "$T/v.err" \
    "^connected to 127\\.0\\.0\\.1:$PORT \\(TLSv1\\.3, TLS_"
expect_grep "version" "$T/v.err" '^\* TLS version: TLSv1\.3$'
expect_grep "group" "$T/v.err" '^\* key exchange group: x25519$'
expect_grep "ALPN" "$T/v.err" '^\* ALPN: bitstuff/1$'
expect_grep "SNI" "$T/v.err" '^\* SNI: none \(not sent for an IP address\)$'
expect_grep "resumed" "$T/v.err" '^\* resumed: no$'
expect_grep "chain" "$T/v.err" '^\* server certificate chain: 1 certificate, as sent$'
expect_grep "subject" "$T/v.err" '^\*   \[0\] subject: CN=localhost'
expect_grep "SANs" "$T/v.err" '^\*       SANs: DNS:localhost, IP:127\.0\.0\.1'
expect_grep "fingerprint" "$T/v.err" "^\\*       SHA-256 fingerprint: $fp\$"
expect_grep "key" "$T/v.err" '^\*       key: EC P-256 \(prime256v1\), 256 bits$'
expect_grep "chain checked" "$T/v.err" \
    '^\* checked: chain of 2 to trusted CA "CN=bitstuff local test CA,O=bitstuff": ok$'
expect_grep "address checked" "$T/v.err" \
    "^\\* checked: address 127\\.0\\.0\\.1 against the certificate's IP SANs: ok \\(matched IP:127\\.0\\.0\\.1\\)\$"
expect_grep "dates checked" "$T/v.err" '^\* checked: dates of every certificate against now \(.*\): ok$'
expect_grep "time" "$T/v.err" '^\* handshake: [0-9]+\.[0-9] ms \([0-9]+ messages, first to last\)$'

note "client -v with a host name: SNI and the SAN it matched"
timeout 60 "$CLIENT" -c "localhost:$PORT" --ca-file "$CERTS/ca.crt" -v \
    "$example" >/dev/null 2>"$T/v2.err"
expect_grep "SNI sent" "$T/v2.err" '^\* SNI: localhost$'
expect_grep "SAN matched" "$T/v2.err" \
    "^\\* checked: name \"localhost\" against the certificate's SANs: ok \\(matched DNS:localhost\\)\$"

note "client -vv: the record headers too"
cli -vv "$example" >/dev/null 2>"$T/vv.err"
expect_grep "ClientHello record" "$T/vv.err" \
    '^> record: handshake, TLS 1\.0 \(0x0301\), [0-9]+ bytes$'
expect_grep "encrypted records" "$T/vv.err" \
    '^< record: application_data, TLS 1\.2 \(0x0303\), [0-9]+ bytes$'
grep -q '^> record:' "$T/v.err" && fail "-v shows record headers"

note "a CA the client does not trust: the chain it got, and the failure"
make_certs "$T/c2"
rc_of rc timeout 60 "$CLIENT" -c "127.0.0.1:$PORT" --ca-file "$T/c2/ca.crt" \
    -v "$example" 2>"$T/bad.err" >/dev/null
expect_eq "exit status for an untrusted CA" "$rc" 4
expect_grep "alert sent" "$T/bad.err" '^> Alert: fatal, unknown CA$'
expect_grep "chain as sent" "$T/bad.err" \
    '^\* server certificate chain, as sent \(the handshake failed\):$'
expect_grep "its fingerprint" "$T/bad.err" "^\\*       SHA-256 fingerprint: $fp\$"
expect_grep "the failed check" "$T/bad.err" \
    '^\* checked: the chain: FAILED: unable to get local issuer certificate'

note "server -v: each client's handshake, one block per connection"
expect_grep "server got ClientHello" "$log" " info bitstuffd: $peer tls: < ClientHello \\("
expect_grep "server sent ServerHello" "$log" " info bitstuffd: $peer tls: > ServerHello \\("
expect_grep "server saw the client's Finished" "$log" " info bitstuffd: $peer tls: < Finished \\("
expect_grep "server summary" "$log" " info bitstuffd: $peer tls: TLS version: TLSv1\\.3\$"
expect_grep "server SNI" "$log" " info bitstuffd: $peer tls: SNI: localhost\$"
expect_grep "no client certificate" "$log" \
    " info bitstuffd: $peer tls: client certificate: none \\(the client sent none\\)\$"
expect_grep "the refused handshake" "$log" \
    " info bitstuffd: $peer tls: < Alert: fatal, unknown CA\$"
expect_serves "the server still serves"
