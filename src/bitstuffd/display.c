/*
 * display.c - the first bits of a message and its length; see display.h.
 */
#include "display.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bs_display_reset(struct bs_display_bits *d)
{
    memset(d, 0, sizeof *d);
}

static void put_bit(struct bs_display_bits *d, unsigned bit)
{
    if (d->n < BS_DISPLAY_BITS && bit) {
        d->first[d->n / 8] |= (uint8_t) (0x80u >> (d->n % 8));
    }
    d->n++;
}

void bs_display_add_packed(struct bs_display_bits *d, const uint8_t *data,
                           size_t nbits)
{
    size_t i;

    for (i = 0; i < nbits && d->n < BS_DISPLAY_BITS; i++) {
        put_bit(d, ((unsigned) data[i / 8] >> (7 - i % 8)) & 1u);
    }
    d->n += nbits - i;
}

void bs_display_add_text(struct bs_display_bits *d, const char *text, size_t n)
{
    size_t i;

    for (i = 0; i < n && d->n < BS_DISPLAY_BITS; i++) {
        put_bit(d, text[i] == '1');
    }
    d->n += n - i;
}

void bs_display_format(const struct bs_display_bits *d, char *buf, size_t len)
{
    char digits[BS_DISPLAY_BITS + 1];
    size_t shown = d->n < BS_DISPLAY_BITS ? (size_t) d->n : BS_DISPLAY_BITS;

    if (len == 0) {
        return;
    }
    for (size_t i = 0; i < shown; i++) {
        digits[i] =
            ((unsigned) d->first[i / 8] >> (7 - i % 8)) & 1u ? '1' : '0';
    }
    digits[shown] = '\0';
    if (d->n == 0) {
        snprintf(buf, len, "0 bits");
    } else if (d->n <= BS_DISPLAY_BITS) {
        snprintf(buf, len, "%llu bits: %s", (unsigned long long) d->n, digits);
    } else {
        snprintf(buf, len, "%llu bits: %s... (%llu bits)",
                 (unsigned long long) d->n, digits, (unsigned long long) d->n);
    }
}

void bs_display_explain_reset(struct bs_display_explain *e)
{
    memset(e->bits, 0, sizeof e->bits);
    e->n = 0;
}

static void explain_put(struct bs_display_explain *e, unsigned bit)
{
    if (e->n < BS_EXPLAIN_MAX_BITS && bit) {
        e->bits[e->n / 8] |= (uint8_t) (0x80u >> (e->n % 8));
    }
    e->n++;
}

void bs_display_explain_add_packed(struct bs_display_explain *e,
                                   const uint8_t *data, size_t nbits)
{
    size_t i;

    for (i = 0; i < nbits && e->n < BS_EXPLAIN_MAX_BITS; i++) {
        explain_put(e, ((unsigned) data[i / 8] >> (7 - i % 8)) & 1u);
    }
    e->n += nbits - i;
}

void bs_display_explain_add_text(struct bs_display_explain *e, const char *text,
                                 size_t n)
{
    size_t i;

    for (i = 0; i < n && e->n < BS_EXPLAIN_MAX_BITS; i++) {
        explain_put(e, text[i] == '1');
    }
    e->n += n - i;
}

void bs_display_explain_show(const struct bs_display_explain *e,
                             struct bs_log *log, const char *peer,
                             enum bs_proto_op op, enum bs_rule rule)
{
    struct bs_explain x;
    char *text = NULL;
    size_t len = 0;
    FILE *f;
    int rc;

    if (e->n > BS_EXPLAIN_MAX_BITS) {
        bs_log_put(log, BS_LOG_OUT,
                   "[%s] explain: not explained: %llu bits is more than "
                   "--explain shows (%u bits)",
                   peer, (unsigned long long) e->n, BS_EXPLAIN_MAX_BITS);
        return;
    }
    if (bs_explain_run_packed(&x, rule, bs_proto_op_dir(op), e->bits,
                              (size_t) e->n) != 0)
    {
        goto nomem;
    }
    f = open_memstream(&text, &len);
    if (f == NULL) {
        bs_explain_free(&x);
        goto nomem;
    }
    rc = bs_explain_render(&x, f, e->colour);
    bs_explain_free(&x);
    if (fclose(f) != 0 || rc != 0) {
        free(text);
        goto nomem;
    }
    for (char *line = text; *line != '\0';) {
        char *nl = strchr(line, '\n');

        if (nl != NULL) {
            *nl = '\0';
        }
        bs_log_put(log, BS_LOG_OUT, "[%s] explain: %s", peer, line);
        if (nl == NULL) {
            break;
        }
        line = nl + 1;
    }
    free(text);
    return;
nomem:
    bs_log_put(log, BS_LOG_ERR,
               "bitstuffd: [%s] --explain: out of memory for the "
               "explanation of a %llu-bit message",
               peer, (unsigned long long) e->n);
}
