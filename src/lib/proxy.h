/*
 * proxy.h - the PROXY protocol header, versions 1 and 2, receiver side
 * (HAProxy's doc/proxy-protocol.txt, the 2026/04/27 revision).
 *
 * Pure code: no I/O, no allocation, no OpenSSL.  A load balancer in TCP
 * mode (HAProxy `send-proxy` / `send-proxy-v2`) puts one header in front
 * of the client's bytes; the receiver reads it before the TLS handshake
 * and then uses the addresses it carries instead of the socket's.
 *
 * The parser is fed bytes as they arrive and NEVER consumes a byte past
 * the end of the header, so the TLS ClientHello that follows it stays
 * where the TLS layer reads it.  Three ways to drive it from a
 * non-blocking socket:
 *
 *  A. Exact reads (recommended; no extra buffer, no lost bytes):
 *         uint8_t buf[BS_PROXY_V1_MAX];
 *         n = recv(fd, buf, min(bs_proxy_want(p), sizeof buf), 0);
 *         st = bs_proxy_feed(p, buf, n, &used);  (used == n but on errors)
 *     bs_proxy_want is a lower bound of the header bytes still to come,
 *     so such a read can never take a byte of the ClientHello.  A v2
 *     header takes three reads (15, 1, then the rest; more if the
 *     caller's buffer is smaller).  A v1 line has no length field: the
 *     bound comes from the fields still missing at their shortest, so a
 *     read may take only a few bytes (6 reads for a typical TCP4 or
 *     TCP6 line, 16 for the longest TCP6 one); method B reads it at once.
 *  B. Peek, then drop: recv(fd, buf, cap, MSG_PEEK) and feed only the
 *     bytes not fed before (the kernel returns the same prefix again);
 *     on DONE, recv exactly bs_proxy_result.header_len bytes without
 *     MSG_PEEK to drop the header.  Needs cap >= the header size
 *     (BS_PROXY_V1_MAX, or max_v2 for v2).  Beware: peeked bytes keep a
 *     level-triggered poll/epoll reporting the socket readable, so a
 *     partial header must be waited for with a timer, or edge-triggered.
 *  C. Buffered: recv into any buffer and feed it; on DONE, buf[used..n)
 *     are the first TLS bytes and the caller must hand them to the TLS
 *     layer itself (e.g. through a memory BIO).
 *
 * The receiver must accept the header only from trusted proxies (see
 * cidr.h) and must not guess whether a header is present: a listener
 * configured for it requires it from every connection.
 *
 * What is checked (everything else is refused, with a sentence):
 *  v1: "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF,
 *      at most 107 bytes with the CRLF; exactly one space between fields;
 *      addresses of the family named (IPv4: four decimal numbers 0-255
 *      without leading zeros; IPv6: inet_pton's syntax, no zone); ports
 *      0-65535 without leading zeros; a lone CR or LF is an error.
 *      "PROXY UNKNOWN" then anything (up to the CRLF) is accepted and
 *      means "use the socket's addresses" (family AF_UNSPEC).
 *  v2: the 12-byte signature, version 2 only, command LOCAL or PROXY;
 *      for PROXY the family/protocol byte is one of 0x00, 0x11, 0x12,
 *      0x21, 0x22, 0x31, 0x32, the length covers the address block, and
 *      what follows the addresses is a well-formed run of TLVs (each
 *      type, 16-bit length and value inside the header).  TLVs are
 *      skipped, except PP2_TYPE_CRC32C: when present (once, 4 bytes) the
 *      header's CRC32c is verified, as the spec requires of receivers
 *      that support it.  A LOCAL header's block (addresses and TLVs) is
 *      skipped unparsed, as the spec says to discard it; so is the block
 *      of a PROXY header with family UNSPEC (0x00), which is accepted
 *      with family AF_UNSPEC (use the socket's addresses).
 *
 * Size bound: a v1 line is at most 107 bytes (the spec's limit).  A v2
 * header may announce up to 16 + 65535 bytes; the parser refuses one
 * longer than max_v2 (BS_PROXY_V2_DEFAULT_MAX, 4 KiB, unless the caller
 * chooses otherwise) as soon as its 16-byte head has arrived.  Why 4
 * KiB: HAProxy in TCP mode (TLS passed through, as bitstuffd is deployed)
 * sends the addresses (at most 216 bytes) and a few short TLVs (ALPN,
 * authority, a unique id of at most 128 bytes, CRC32c); only a proxy that
 * terminates TLS adds SSL TLVs, and only PP2_SUBTYPE_SSL_CLIENT_CERT
 * (a DER certificate) approaches a kilobyte or two.  4 KiB is a tenth of
 * a typical socket buffer, lets method B peek the whole header into a
 * small stack buffer, and stops a peer from holding a connection in the
 * header phase while it streams 64 KiB of TLVs.
 */
#ifndef BS_PROXY_H
#define BS_PROXY_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define BS_PROXY_V1_MAX         107u /* bytes of a v1 line, CRLF included */
#define BS_PROXY_V2_HDR_LEN     16u  /* signature, ver/cmd, fam, length */
#define BS_PROXY_V2_LIMIT       (16u + 65535u) /* the largest v2 header */
#define BS_PROXY_V2_DEFAULT_MAX 4096u
#define BS_PROXY_V2_MIN_MAX     (16u + 216u) /* every address block fits */
#define BS_PROXY_ERRLEN         160u /* bytes of bs_proxy_error's text */
#define BS_PROXY_UNIX_PATH_LEN  108u /* bytes of a v2 AF_UNIX address */

/* Returned by bs_proxy_feed.  Errors are negative; they are sticky. */
enum bs_proxy_status {
    BS_PROXY_NEED_MORE = 0, /* all given was header; feed more */
    BS_PROXY_DONE = 1,      /* the header is complete; see the result */
    /* The first bytes are not a PROXY header at all (a TLS ClientHello,
     * an HTTP request, ...): the sender is not configured to send one. */
    BS_PROXY_E_NOT_PROXY = -1,
    BS_PROXY_E_MALFORMED = -2, /* a field is wrong (the text says which) */
    BS_PROXY_E_TOO_LONG = -3,  /* v1 over 107 bytes, v2 over max_v2 */
    BS_PROXY_E_VERSION = -4,   /* v2 signature with a version other than 2 */
    BS_PROXY_E_COMMAND = -5,   /* v2 command other than LOCAL or PROXY */
    BS_PROXY_E_FAMILY = -6,    /* v2 family/protocol byte not in the spec */
    BS_PROXY_E_CHECKSUM = -7,  /* v2 CRC32c TLV does not match the header */
    /* a new status goes here, as the lowest, and gets a name in proxy.c's
     * status_names (which starts at the lowest) */
};

/* "need-more", "done", "not-proxy", "malformed", "too-long", "version",
 * "command", "family", "checksum" (for logs); "unknown" otherwise. */
const char *bs_proxy_status_name(int st);

/* What a complete header says. */
struct bs_proxy_result {
    int version; /* 1 or 2 */
    /* 1 for a v2 LOCAL command (a health check by the proxy itself): the
     * connection's own endpoints are the real ones; family is AF_UNSPEC. */
    int local;
    /* AF_INET or AF_INET6 (src/dst are sockaddr_in/sockaddr_in6 with
     * ports), AF_UNIX (sockaddr_un, v2 only), or AF_UNSPEC: no usable
     * address (v1 UNKNOWN, v2 LOCAL, v2 PROXY with family UNSPEC); the
     * caller then uses the socket's own addresses. */
    int family;
    /* SOCK_STREAM (v1 TCP4/TCP6, v2 0x_1), SOCK_DGRAM (v2 0x_2, UDP or
     * unix datagram: a TCP server should refuse it), 0 when unspecified. */
    int socktype;
    struct sockaddr_storage src, dst; /* the client and what it dialled */
    socklen_t src_len, dst_len;       /* 0 when family is AF_UNSPEC */
    size_t header_len;                /* bytes of the whole header */
    unsigned tlv_count;               /* v2 TLVs seen (PROXY with addresses) */
    int crc_checked;                  /* a CRC32c TLV was present and right */
};

/*
 * Parser state.  Caller-allocated, 752 bytes on x86-64 (two
 * sockaddr_storage in the result, the v1 line or v2 address block, the
 * error text); fields are private.  It is needed only until DONE: a
 * server may keep it in a union with later per-connection state after
 * copying the addresses out.  TLVs are checked as they stream through
 * and not kept.
 */
struct bs_proxy_parser {
    size_t max_v2;
    size_t fed;   /* header bytes consumed so far */
    size_t total; /* v2: 16 + length, once the head is in; else 0 */
    size_t addr_len;
    size_t tlv_left;     /* bytes of the current TLV still to skip */
    uint32_t crc;        /* running CRC32c of the header */
    uint32_t crc_wanted; /* the value of the CRC32c TLV */
    int status;
    uint8_t version;     /* 0 until the first byte says which */
    uint8_t tlv_hdr_len; /* bytes of the current TLV's head gathered */
    uint8_t tlv_hdr[3];
    uint8_t crc_seen;
    uint8_t in_crc; /* the current TLV is the CRC32c one */
    struct bs_proxy_result res;
    char err[BS_PROXY_ERRLEN];
    uint8_t buf[BS_PROXY_V2_MIN_MAX]; /* v1 line; v2 head + addresses */
};

/* Prepare p for a new connection.  max_v2 bounds a v2 header's size in
 * bytes: 0 means BS_PROXY_V2_DEFAULT_MAX; values are clamped to
 * [BS_PROXY_V2_MIN_MAX, BS_PROXY_V2_LIMIT]. */
void bs_proxy_init(struct bs_proxy_parser *p, size_t max_v2);

/*
 * Feed data[0..len) (data may be NULL when len is 0).  Sets *consumed to
 * the bytes that belong to the header: len on NEED_MORE; on DONE the
 * header's last bytes, the rest (data + *consumed ..) being the
 * application's (TLS) bytes; on an error, the bytes up to and including
 * the one found wrong.  Once DONE or an error has been returned, later
 * calls return it again and consume nothing.  Splitting the same bytes
 * differently never changes the outcome, the result or the error text.
 */
enum bs_proxy_status bs_proxy_feed(struct bs_proxy_parser *p,
                                   const uint8_t *data, size_t len,
                                   size_t *consumed);

/* While NEED_MORE: how many more bytes the header certainly still has
 * (>= 1), so that reading exactly that many never reads past it.  0 once
 * DONE or failed. */
size_t bs_proxy_want(const struct bs_proxy_parser *p);

/* The result once DONE; NULL before and after an error. */
const struct bs_proxy_result *bs_proxy_result(const struct bs_proxy_parser *p);

/* After an error: a sentence saying what was wrong, e.g. "PROXY v1: source
 * port '065535' has a leading zero".  "" otherwise. */
const char *bs_proxy_error(const struct bs_proxy_parser *p);

/* CRC32c (Castagnoli, as in RFC 4960 appendix B) of data[0..len),
 * continuing from crc (0 to start): the PP2_TYPE_CRC32C checksum. */
uint32_t bs_proxy_crc32c(uint32_t crc, const uint8_t *data, size_t len);

#endif /* BS_PROXY_H */
