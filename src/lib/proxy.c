/*
 * proxy.c - the PROXY protocol header, v1 and v2 (see proxy.h).
 *
 * One byte at a time: every byte goes through step(), so the outcome
 * cannot depend on how the input was split, and the parser stops on the
 * byte that completes the header.  The v1 line is kept and parsed whole
 * at its CRLF (the spec forbids decoding addresses earlier); a v2 head
 * and address block are kept, TLVs are checked as they pass.
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
static const char v1_sig[] = "PROXY ";

#define PP2_TYPE_CRC32C 0x03u
#define V1_MIN_UNKNOWN  15u /* "PROXY UNKNOWN\r\n" */

/* The statuses run from STATUS_MIN up to BS_PROXY_DONE; their names are
 * indexed by status - STATUS_MIN. */
#define STATUS_MIN BS_PROXY_E_CHECKSUM

static const char *const status_names[BS_PROXY_DONE - STATUS_MIN + 1] = {
    [BS_PROXY_NEED_MORE - STATUS_MIN] = "need-more",
    [BS_PROXY_DONE - STATUS_MIN] = "done",
    [BS_PROXY_E_NOT_PROXY - STATUS_MIN] = "not-proxy",
    [BS_PROXY_E_MALFORMED - STATUS_MIN] = "malformed",
    [BS_PROXY_E_TOO_LONG - STATUS_MIN] = "too-long",
    [BS_PROXY_E_VERSION - STATUS_MIN] = "version",
    [BS_PROXY_E_COMMAND - STATUS_MIN] = "command",
    [BS_PROXY_E_FAMILY - STATUS_MIN] = "family",
    [BS_PROXY_E_CHECKSUM - STATUS_MIN] = "checksum",
};

const char *bs_proxy_status_name(int st)
{
    const char *name = NULL;

    if (st >= STATUS_MIN && st <= BS_PROXY_DONE) {
        name = status_names[st - STATUS_MIN];
    }
    return name != NULL ? name : "unknown";
}

uint32_t bs_proxy_crc32c(uint32_t crc, const uint8_t *data, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

void bs_proxy_init(struct bs_proxy_parser *p, size_t max_v2)
{
    memset(p, 0, sizeof(*p));
    if (max_v2 == 0) {
        max_v2 = BS_PROXY_V2_DEFAULT_MAX;
    }
    if (max_v2 < BS_PROXY_V2_MIN_MAX) {
        max_v2 = BS_PROXY_V2_MIN_MAX;
    }
    if (max_v2 > BS_PROXY_V2_LIMIT) {
        max_v2 = BS_PROXY_V2_LIMIT;
    }
    p->max_v2 = max_v2;
    p->status = BS_PROXY_NEED_MORE;
}

__attribute__((format(printf, 3, 4))) static int
fail(struct bs_proxy_parser *p, int st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(p->err, sizeof(p->err), fmt, ap);
    va_end(ap);
    p->status = st;
    return st;
}

/* A printable copy of s[0..n) (at most 40 characters) for a message. */
static void show(char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t j = 0;

    for (size_t i = 0; i < n && j + 4 < cap && i < 40; i++) {
        out[j++] = (s[i] >= 0x20 && s[i] < 0x7F) ? (char) s[i] : '?';
    }
    if (n > 40 && j + 4 < cap) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
}

/* ---- version 1 ---- */

/* Four decimal numbers 0-255 without leading zeros, one dot between. */
static int parse_ipv4(const uint8_t *s, size_t n, uint8_t out[4])
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t start = i;

        if (part > 0) {
            if (i >= n || s[i] != '.') {
                return -1;
            }
            start = ++i;
        }
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
            v = v * 10u + (unsigned) (s[i] - '0');
            i++;
        }
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1)) {
            return -1;
        }
        out[part] = (uint8_t) v;
    }
    return i == n ? 0 : -1;
}

/* inet_pton's IPv6 syntax on a token we first bound and filter. */
static int parse_ipv6(const uint8_t *s, size_t n, uint8_t out[16])
{
    char tmp[INET6_ADDRSTRLEN];

    if (n == 0 || n >= sizeof(tmp)) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
        {
            return -1;
        }
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, out) == 1 ? 0 : -1;
}

/* 0-65535, decimal, no leading zero.  Returns the port or -1. */
static long parse_port(const uint8_t *s, size_t n)
{
    long v = 0;

    if (n == 0 || n > 5 || (s[0] == '0' && n > 1)) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v <= 65535 ? v : -1;
}

/* The address a (4 bytes for AF_INET, 16 for AF_INET6) and port into
 * *ss and *len. */
static void set_addr(struct sockaddr_storage *ss, socklen_t *len, int family,
                     const uint8_t *a, uint16_t port)
{
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } u;

    memset(&u, 0, sizeof(u));
    if (family == AF_INET) {
        u.v4.sin_family = AF_INET;
        u.v4.sin_port = htons(port);
        memcpy(&u.v4.sin_addr, a, 4);
        *len = (socklen_t) sizeof(u.v4);
    } else {
        u.v6.sin6_family = AF_INET6;
        u.v6.sin6_port = htons(port);
        memcpy(&u.v6.sin6_addr, a, 16);
        *len = (socklen_t) sizeof(u.v6);
    }
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, &u, *len);
}

/* Is buf[6..fed) a prefix of a protocol word followed by what may follow
 * it?  Lets a wrong word be refused before the whole line is in. */
static int v1_word_ok(const struct bs_proxy_parser *p)
{
    static const char *const words[] = {"TCP4 ", "TCP6 ", "UNKNOWN ",
                                        "UNKNOWN\r"};
    size_t n = p->fed + 1 - 6; /* the current byte included */

    for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
        size_t wl = strlen(words[w]);
        if (n >= wl) {
            if (memcmp(p->buf + 6, words[w], wl) == 0) {
                return 1;
            }
        } else if (memcmp(p->buf + 6, words[w], n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The whole line buf[0..n) ends in CRLF; check it and fill the result. */
static int v1_parse(struct bs_proxy_parser *p, size_t n)
{
    static const char *const names[4] = {"source address",
                                         "destination address", "source port",
                                         "destination port"};
    const uint8_t *tok[5];
    size_t tlen[5];
    size_t ntok = 0;
    size_t end = n - 2; /* without the CRLF */
    size_t i = 6;       /* after "PROXY " */
    char shown[48];
    uint8_t a[2][16];
    long port[2];
    int v6;

    /* Split on single spaces; the protocol word and four fields. */
    for (;;) {
        size_t start = i;
        while (i < end && p->buf[i] != ' ') {
            i++;
        }
        tok[ntok] = p->buf + start;
        tlen[ntok] = i - start;
        ntok++;
        if (ntok == 1 && tlen[0] == 7 && memcmp(tok[0], "UNKNOWN", 7) == 0) {
            /* The rest of the line is to be ignored. */
            p->res.family = AF_UNSPEC;
            return BS_PROXY_DONE;
        }
        if (tlen[ntok - 1] == 0) {
            return fail(p, BS_PROXY_E_MALFORMED,
                        "PROXY v1: empty field %zu (two spaces, or a "
                        "space before the CRLF)",
                        ntok);
        }
        if (i == end || ntok == 5) {
            break;
        }
        i++; /* the space */
    }
    if (tlen[0] != 4 ||
        (memcmp(tok[0], "TCP4", 4) != 0 && memcmp(tok[0], "TCP6", 4) != 0))
    {
        show(shown, sizeof(shown), tok[0], tlen[0]);
        return fail(p, BS_PROXY_E_MALFORMED,
                    "PROXY v1: protocol '%s' is not TCP4, TCP6 or UNKNOWN",
                    shown);
    }
    if (ntok == 5 && end - i == 1) {
        return fail(p, BS_PROXY_E_MALFORMED,
                    "PROXY v1: a space before the CRLF");
    }
    if (ntok < 5 || i != end) {
        return fail(p, BS_PROXY_E_MALFORMED,
                    "PROXY v1: expected 4 fields after %.4s (source and "
                    "destination address and port), got %s",
                    (const char *) tok[0], ntok < 5 ? "fewer" : "more");
    }
    v6 = tok[0][3] == '6';
    for (int k = 0; k < 2; k++) {
        int bad = v6 ? parse_ipv6(tok[1 + k], tlen[1 + k], a[k])
                     : parse_ipv4(tok[1 + k], tlen[1 + k], a[k]);
        if (bad) {
            show(shown, sizeof(shown), tok[1 + k], tlen[1 + k]);
            return fail(p, BS_PROXY_E_MALFORMED,
                        "PROXY v1: %s '%s' is not an %s address%s", names[k],
                        shown, v6 ? "IPv6" : "IPv4",
                        v6 ? "" : " (a.b.c.d, 0-255, no leading zeros)");
        }
    }
    for (int k = 0; k < 2; k++) {
        port[k] = parse_port(tok[3 + k], tlen[3 + k]);
        if (port[k] < 0) {
            show(shown, sizeof(shown), tok[3 + k], tlen[3 + k]);
            return fail(p, BS_PROXY_E_MALFORMED,
                        "PROXY v1: %s '%s' is not a number 0-65535 without "
                        "leading zeros",
                        names[2 + k], shown);
        }
    }
    p->res.family = v6 ? AF_INET6 : AF_INET;
    p->res.socktype = SOCK_STREAM;
    for (int k = 0; k < 2; k++) {
        struct sockaddr_storage *ss = k == 0 ? &p->res.src : &p->res.dst;
        socklen_t *len = k == 0 ? &p->res.src_len : &p->res.dst_len;
        set_addr(ss, len, p->res.family, a[k], (uint16_t) port[k]);
    }
    return BS_PROXY_DONE;
}

static int v1_step(struct bs_proxy_parser *p, uint8_t b)
{
    size_t pos = p->fed;

    p->buf[pos] = b;
    if (pos < 5 && b != (uint8_t) v1_sig[pos]) {
        return fail(p, BS_PROXY_E_NOT_PROXY,
                    "the connection does not start with a PROXY protocol "
                    "header (\"PROXY \" or the v2 signature)");
    }
    if (pos == 5 && b != ' ') {
        return fail(p, BS_PROXY_E_MALFORMED,
                    "PROXY v1: \"PROXY\" is not followed by a space");
    }
    if (pos > 0 && p->buf[pos - 1] == '\r' && b != '\n') {
        return fail(p, BS_PROXY_E_MALFORMED,
                    "PROXY v1: a CR not followed by LF at byte %zu", pos);
    }
    if (b == '\n') {
        if (p->buf[pos - 1] != '\r') {
            return fail(p, BS_PROXY_E_MALFORMED,
                        "PROXY v1: a lone LF at byte %zu (the line must "
                        "end in CRLF)",
                        pos + 1);
        }
        p->res.header_len = pos + 1;
        return v1_parse(p, pos + 1);
    }
    if (pos + 1 >= BS_PROXY_V1_MAX) {
        return fail(p, BS_PROXY_E_TOO_LONG,
                    "PROXY v1: no CRLF in the first %u bytes", BS_PROXY_V1_MAX);
    }
    if (pos >= 6 && pos < 6 + 8 && !v1_word_ok(p)) {
        char shown[48];
        if (pos == 10 && (b == '\r' || b == ' ') &&
            (memcmp(p->buf + 6, "TCP4", 4) == 0 ||
             memcmp(p->buf + 6, "TCP6", 4) == 0))
        {
            return fail(p, BS_PROXY_E_MALFORMED,
                        "PROXY v1: %.4s is not followed by a single space "
                        "and the addresses and ports",
                        (const char *) p->buf + 6);
        }
        show(shown, sizeof(shown), p->buf + 6, pos + 1 - 6);
        return fail(p, BS_PROXY_E_MALFORMED,
                    "PROXY v1: protocol '%s' is not TCP4, TCP6 or UNKNOWN",
                    shown);
    }
    return BS_PROXY_NEED_MORE;
}

/* ---- version 2 ---- */

static size_t v2_addr_block(unsigned fam)
{
    switch (fam >> 4) {
    case 1:
        return 12;
    case 2:
        return 36;
    case 3:
        return 2 * BS_PROXY_UNIX_PATH_LEN;
    default:
        return 0;
    }
}

/* The last byte is in: fill the result from the head and address block. */
static int v2_finish(struct bs_proxy_parser *p)
{
    unsigned fam = p->buf[13];
    const uint8_t *a = p->buf + 16;

    p->res.header_len = p->total;
    if (p->tlv_hdr_len != 0) {
        /* Cannot happen: a TLV head is refused when fewer than 3 bytes
         * are left for it.  Kept as a guard for future edits. */
        return fail(p, BS_PROXY_E_MALFORMED, "PROXY v2: a TLV is cut short");
    }
    if (p->crc_seen && p->crc != p->crc_wanted) {
        return fail(p, BS_PROXY_E_CHECKSUM,
                    "PROXY v2: CRC32c TLV says 0x%08x, the header's is "
                    "0x%08x",
                    (unsigned) p->crc_wanted, (unsigned) p->crc);
    }
    p->res.crc_checked = p->crc_seen;
    if (p->res.local || p->addr_len == 0) {
        p->res.family = AF_UNSPEC;
        return BS_PROXY_DONE;
    }
    if ((fam >> 4) == 1) {
        p->res.family = AF_INET;
        set_addr(&p->res.src, &p->res.src_len, AF_INET, a,
                 (uint16_t) (a[8] << 8 | a[9]));
        set_addr(&p->res.dst, &p->res.dst_len, AF_INET, a + 4,
                 (uint16_t) (a[10] << 8 | a[11]));
    } else if ((fam >> 4) == 2) {
        p->res.family = AF_INET6;
        set_addr(&p->res.src, &p->res.src_len, AF_INET6, a,
                 (uint16_t) (a[32] << 8 | a[33]));
        set_addr(&p->res.dst, &p->res.dst_len, AF_INET6, a + 16,
                 (uint16_t) (a[34] << 8 | a[35]));
    } else {
        p->res.family = AF_UNIX;
        for (int k = 0; k < 2; k++) {
            struct sockaddr_un sun;
            const uint8_t *path = a + (size_t) k * BS_PROXY_UNIX_PATH_LEN;
            const uint8_t *nul = memchr(path, 0, BS_PROXY_UNIX_PATH_LEN);
            socklen_t len = (socklen_t) sizeof(sun);

            memset(&sun, 0, sizeof(sun));
            sun.sun_family = AF_UNIX;
            memcpy(sun.sun_path, path, BS_PROXY_UNIX_PATH_LEN);
            if (path[0] != 0 && nul != NULL) {
                /* a path name: up to its NUL, as getsockname gives it */
                len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) +
                                   (size_t) (nul - path) + 1);
            }
            memcpy(k == 0 ? &p->res.src : &p->res.dst, &sun, sizeof(sun));
            *(k == 0 ? &p->res.src_len : &p->res.dst_len) = len;
        }
    }
    return BS_PROXY_DONE;
}

/* A byte past the address block: the TLV stream. */
static int v2_tlv_byte(struct bs_proxy_parser *p, uint8_t b, size_t pos)
{
    if (p->tlv_hdr_len < 3) {
        if (p->tlv_hdr_len == 0 && p->total - pos < 3) {
            return fail(p, BS_PROXY_E_MALFORMED,
                        "PROXY v2: %zu byte(s) after the last TLV, too few "
                        "for a TLV (3 at least)",
                        p->total - pos);
        }
        p->tlv_hdr[p->tlv_hdr_len++] = b;
        if (p->tlv_hdr_len < 3) {
            return BS_PROXY_NEED_MORE;
        }
        p->tlv_left = (size_t) p->tlv_hdr[1] << 8 | p->tlv_hdr[2];
        p->res.tlv_count++;
        if (p->tlv_left > p->total - pos - 1) {
            return fail(p, BS_PROXY_E_MALFORMED,
                        "PROXY v2: TLV type 0x%02x says %zu bytes, only %zu "
                        "are left in the header",
                        p->tlv_hdr[0], p->tlv_left, p->total - pos - 1);
        }
        if (p->tlv_hdr[0] == PP2_TYPE_CRC32C) {
            if (p->crc_seen) {
                return fail(p, BS_PROXY_E_MALFORMED,
                            "PROXY v2: two CRC32c TLVs");
            }
            if (p->tlv_left != 4) {
                return fail(p, BS_PROXY_E_MALFORMED,
                            "PROXY v2: CRC32c TLV of %zu bytes, not 4",
                            p->tlv_left);
            }
            p->crc_seen = 1;
            p->in_crc = 1;
        }
    } else {
        if (p->in_crc) {
            p->crc_wanted = p->crc_wanted << 8 | b;
        }
        p->tlv_left--;
    }
    if (p->tlv_hdr_len == 3 && p->tlv_left == 0) {
        p->tlv_hdr_len = 0;
        p->in_crc = 0;
    }
    return BS_PROXY_NEED_MORE;
}

static int v2_step(struct bs_proxy_parser *p, uint8_t b)
{
    size_t pos = p->fed;
    /* The CRC covers the header with the CRC32c value zeroed. */
    uint8_t crc_byte = (p->in_crc && p->tlv_hdr_len == 3) ? 0 : b;
    int st = BS_PROXY_NEED_MORE;

    p->crc = bs_proxy_crc32c(p->crc, &crc_byte, 1);
    if (pos < 12) {
        if (b != v2_sig[pos]) {
            return fail(p, BS_PROXY_E_NOT_PROXY,
                        "the connection does not start with a PROXY "
                        "protocol header (\"PROXY \" or the v2 signature)");
        }
        return st;
    }
    if (pos < 16) {
        p->buf[pos] = b;
    }
    if (pos == 12) {
        if ((b >> 4) != 2) {
            return fail(p, BS_PROXY_E_VERSION,
                        "PROXY v2 signature with version %u; only version 2 "
                        "is supported",
                        (unsigned) (b >> 4));
        }
        if ((b & 0x0Fu) > 1) {
            return fail(p, BS_PROXY_E_COMMAND,
                        "PROXY v2: command %u is neither LOCAL (0) nor PROXY "
                        "(1)",
                        (unsigned) (b & 0x0Fu));
        }
        p->res.local = (b & 0x0Fu) == 0;
        return st;
    }
    if (pos == 13) {
        if (!p->res.local && ((b >> 4) > 3 || (b & 0x0Fu) > 2)) {
            return fail(p, BS_PROXY_E_FAMILY,
                        "PROXY v2: address family/protocol byte 0x%02x is "
                        "not defined by the protocol",
                        b);
        }
        if (!p->res.local) {
            p->res.socktype = (b & 0x0Fu) == 1   ? SOCK_STREAM
                              : (b & 0x0Fu) == 2 ? SOCK_DGRAM
                                                 : 0;
            /* Either half unspecified: fall back to UNSPEC, skip it all. */
            if ((b >> 4) != 0 && (b & 0x0Fu) != 0) {
                p->addr_len = v2_addr_block(b);
            }
        }
        return st;
    }
    if (pos == 15) {
        size_t len = (size_t) p->buf[14] << 8 | b;
        p->total = BS_PROXY_V2_HDR_LEN + len;
        if (p->total > p->max_v2) {
            return fail(p, BS_PROXY_E_TOO_LONG,
                        "PROXY v2: header of %zu bytes, more than the %zu "
                        "accepted",
                        p->total, p->max_v2);
        }
        if (len < p->addr_len) {
            return fail(p, BS_PROXY_E_MALFORMED,
                        "PROXY v2: length %zu is shorter than the %zu-byte "
                        "address block of family 0x%02x",
                        len, p->addr_len, p->buf[13]);
        }
        return p->total == BS_PROXY_V2_HDR_LEN ? v2_finish(p) : st;
    }
    if (pos < 16) {
        return st;
    }
    if (!p->res.local && p->addr_len > 0) {
        if (pos < 16 + p->addr_len) {
            p->buf[pos] = b;
        } else {
            st = v2_tlv_byte(p, b, pos);
        }
    }
    if (st == BS_PROXY_NEED_MORE && pos + 1 == p->total) {
        return v2_finish(p);
    }
    return st;
}

enum bs_proxy_status bs_proxy_feed(struct bs_proxy_parser *p,
                                   const uint8_t *data, size_t len,
                                   size_t *consumed)
{
    *consumed = 0;
    if (p->status != BS_PROXY_NEED_MORE) {
        return (enum bs_proxy_status) p->status;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t b = data[i];
        int st;

        if (p->fed == 0) {
            if (b == 'P') {
                p->version = 1;
            } else if (b == v2_sig[0]) {
                p->version = 2;
            } else {
                *consumed = i + 1;
                return (enum bs_proxy_status) fail(
                    p, BS_PROXY_E_NOT_PROXY,
                    b == 0x16 ? "the connection starts with a TLS record, "
                                "not a PROXY protocol header: is the proxy "
                                "set to send one (HAProxy: send-proxy-v2)?"
                              : "the connection does not start with a PROXY "
                                "protocol header (\"PROXY \" or the v2 "
                                "signature)");
            }
            p->res.version = p->version;
        }
        st = p->version == 1 ? v1_step(p, b) : v2_step(p, b);
        p->fed++;
        if (st != BS_PROXY_NEED_MORE) {
            *consumed = i + 1;
            p->status = st;
            return (enum bs_proxy_status) st;
        }
    }
    *consumed = len;
    return BS_PROXY_NEED_MORE;
}

/* A v1 TCP4 or TCP6 line whose protocol word is in: the fewest bytes it
 * can still have if valid, from the fields still to come at their
 * shortest ("0.0.0.0" or "::", "0") and the CRLF. */
static size_t v1_min_rest(const struct bs_proxy_parser *p)
{
    static const size_t min4[4] = {7, 7, 1, 1}, min6[4] = {2, 2, 1, 1};
    const size_t *m = p->buf[9] == '4' ? min4 : min6;
    size_t field = 0, cur = 0, rest = 2;

    for (size_t i = 11; i < p->fed; i++) {
        if (p->buf[i] == ' ') {
            field++;
            cur = 0;
        } else {
            cur++;
        }
    }
    if (field > 3) {
        return rest; /* too many fields: it will be refused at the CRLF */
    }
    if (cur < m[field]) {
        rest += m[field] - cur;
    }
    for (size_t j = field + 1; j < 4; j++) {
        rest += 1 + m[j];
    }
    return rest;
}

size_t bs_proxy_want(const struct bs_proxy_parser *p)
{
    size_t min_total = V1_MIN_UNKNOWN;

    if (p->status != BS_PROXY_NEED_MORE) {
        return 0;
    }
    if (p->version == 2) {
        return p->fed < BS_PROXY_V2_HDR_LEN ? BS_PROXY_V2_HDR_LEN - p->fed
                                            : p->total - p->fed;
    }
    if (p->version == 1 && p->buf[p->fed - 1] == '\r') {
        return 1;
    }
    if (p->fed >= 11 && (memcmp(p->buf + 6, "TCP4 ", 5) == 0 ||
                         memcmp(p->buf + 6, "TCP6 ", 5) == 0))
    {
        return v1_min_rest(p);
    }
    if (p->fed == 0 || min_total - 2 > p->fed) {
        return min_total - p->fed;
    }
    return 2; /* at least the CRLF */
}

const struct bs_proxy_result *bs_proxy_result(const struct bs_proxy_parser *p)
{
    return p->status == BS_PROXY_DONE ? &p->res : NULL;
}

const char *bs_proxy_error(const struct bs_proxy_parser *p)
{
    return p->status < 0 ? p->err : "";
}
