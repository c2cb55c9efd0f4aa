/*
 * fuzz_logrender.c - libFuzzer harness for the log line renderer (a close
 * line carries strings from the network: a client certificate's subject,
 * a PROXY error text).
 *
 * Target function: bs_log_render.
 *
 * Input: byte 0 picks the buffer size (64 to 2111 bytes) and byte 1 the
 * format, decoration and level; the rest is cut at NUL bytes into a
 * message and up to four string values.  Checked, in every format:
 *   - the line fits the buffer, is NUL-terminated, its length is
 *     returned, and it ends in its only newline;
 *   - TEXT: no other byte below 0x20, so a value cannot start a line;
 *   - JSON: no byte below 0x20 inside, the line is one object
 *     ("{" ... "}\n", after a journald "<N>" when decorated so), every
 *     string's quotes balance (a '"' not escaped opens or closes one),
 *     and the bytes form valid UTF-8.
 * Any violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t k = s[i] < 0x80 ? 1 : s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : 2;
        if (s[i] >= 0x80 && (s[i] < 0xc2 || s[i] > 0xf4)) {
            abort();
        }
        if (i + k > n) {
            abort();
        }
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) {
                abort();
            }
        }
        i += k;
    }
}

static void check_json(const char *p, size_t n)
{
    int in_str = 0, esc = 0;

    if (p[0] == '<') {
        p = strchr(p, '>');
        if (p == NULL) {
            abort();
        }
        p++;
        n = strlen(p);
    }
    if (n < 3 || p[0] != '{' || p[n - 2] != '}') {
        abort();
    }
    for (size_t i = 0; i + 1 < n; i++) {
        if (esc) {
            esc = 0;
        } else if (in_str && p[i] == '\\') {
            esc = 1;
        } else if (p[i] == '"') {
            in_str = !in_str;
        }
    }
    if (in_str || esc) {
        abort();
    }
    check_utf8((const unsigned char *) p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int levels[] = {BS_LOG_LVL_ERROR, BS_LOG_LVL_WARNING,
                                 BS_LOG_LVL_INFO, BS_LOG_LVL_DEBUG};
    static const char *const keys[] = {"peer", "client_cert", "detail", "alpn"};
    struct bs_log_field f[5];
    char *in, *parts[5], *buf;
    size_t cap, nparts = 0, n, len;
    int format, decor, level;

    if (size < 2) {
        return 0;
    }
    cap = 64 + (size_t) data[0] * 8;
    format = data[1] & 1 ? BS_LOG_FORMAT_JSON : BS_LOG_FORMAT_TEXT;
    decor = (data[1] >> 1) % 3;
    level = levels[(data[1] >> 3) & 3];
    in = malloc(size - 1);
    buf = malloc(cap);
    if (in == NULL || buf == NULL) {
        abort();
    }
    memcpy(in, data + 2, size - 2);
    in[size - 2] = '\0';
    parts[nparts++] = in;
    for (size_t i = 0; i + 2 < size && nparts < 5; i++) {
        if (in[i] == '\0') {
            parts[nparts++] = in + i + 1;
        }
    }
    n = 0;
    for (size_t i = 1; i < nparts; i++, n++) {
        f[n] = (struct bs_log_field){.key = keys[i - 1], .str = parts[i]};
    }
    f[n++] = (struct bs_log_field){.key = "requests", .num = size};
    len = bs_log_render(buf, cap, format, decor, level, 1796665368123ull,
                        parts[0], f, n);
    if (len == 0 || len >= cap || buf[len] != '\0' || strlen(buf) != len ||
        buf[len - 1] != '\n' || memchr(buf, '\n', len - 1) != NULL)
    {
        abort();
    }
    for (size_t i = 0; i + 1 < len; i++) {
        if ((unsigned char) buf[i] < 0x20) {
            abort();
        }
    }
    if (format == BS_LOG_FORMAT_JSON) {
        check_json(buf, len);
    }
    free(in);
    free(buf);
    return 0;
}
