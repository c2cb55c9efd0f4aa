/*
 * advice.c - bitstuffd's words for the TLS module's reasons; see advice.h.
 */
#include "advice.h"

#define ISSUE_SERVER "(scripts/gen-certs.sh --ca-dir DIR --issue server)"

static const char *const words[BS_TLS_R_COUNT] = {
    [BS_TLS_R_CERT_EXPIRED] =
        "renew it (scripts/gen-certs.sh --force) or check the clock",
    [BS_TLS_R_CERT_PURPOSE] = "make it with scripts/gen-certs.sh",
    [BS_TLS_R_NO_CLIENT_CERT] = "the client must pass --cert and --key",
    [BS_TLS_R_OWN_CA_UNKNOWN] = "give the client that CA (its --ca-file)",
    [BS_TLS_R_OWN_NAME_WRONG] = "add the name (scripts/gen-certs.sh --san) or "
                                "connect by a name it holds",
    [BS_TLS_R_OWN_NAME_NO_SNI] = "connect by one of those names or addresses, "
                                 "or add the client's (scripts/gen-certs.sh "
                                 "--san)",
    [BS_TLS_R_OWN_CERT_USAGE] = "check its key usage and purpose "
                                "(scripts/gen-certs.sh makes them right)",
    [BS_TLS_R_NOT_ALLOWED] = "not in the --allow-cn/--allow-dns/--allow-uri "
                             "list",
    [BS_TLS_R_CRL_EXPIRED] = "publish a new one (scripts/gen-certs.sh "
                             "--gen-crl) and send SIGHUP",
    [BS_TLS_R_CRL_STALE] = "publish a new one (scripts/gen-certs.sh --gen-crl)",
    [BS_TLS_R_CRL_EMPTY] = "(scripts/gen-certs.sh --gen-crl makes one)",
    [BS_TLS_R_POLICY_NEEDS_CA] = "pass --ca-file (and --verify-client require)",
    [BS_TLS_R_RENEW_EXPIRED] = "issue a new one " ISSUE_SERVER,
    [BS_TLS_R_RENEW_SELF_SIGNED] = "issue it from the CA " ISSUE_SERVER,
    [BS_TLS_R_RENEW_OTHER_CA] = "issue it from that CA " ISSUE_SERVER,
    [BS_TLS_R_RENEW_NAME] = "add it (gen-certs.sh --san)",
    [BS_TLS_R_GROUPS] = "--groups",
};

const char *bs_server_tls_advice(enum bs_tls_reason why)
{
    return (unsigned) why < BS_TLS_R_COUNT ? words[why] : NULL;
}
