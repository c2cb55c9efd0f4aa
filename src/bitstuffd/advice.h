/*
 * advice.h - bitstuffd's advice for a TLS failure.
 *
 * The TLS module (tls.h) states what failed and why, and names no option;
 * this maps its reasons to what a server operator can change here: the
 * server's options, the client's options (in advice about a client), and
 * scripts/gen-certs.sh.  Give it as the advice of the server's TLS
 * configuration (struct bs_tls_server_config).
 */
#ifndef BS_SERVER_ADVICE_H
#define BS_SERVER_ADVICE_H

#include "tls.h"

/* The words that end tls.c's sentence about why; NULL: tls.c's own. */
const char *bs_server_tls_advice(enum bs_tls_reason why);

#endif /* BS_SERVER_ADVICE_H */
