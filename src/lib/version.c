/*
 * version.c - bs_version(): the version of the libbitstuff in use.
 */
#include "bitstuff.h"

const char *bs_version(void)
{
    return BS_VERSION;
}
