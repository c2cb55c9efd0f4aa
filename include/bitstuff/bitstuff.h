/*
 * bitstuff.h - libbitstuff, the bit-stuffing library of bitstuff: the one
 * header an application includes.
 *
 *     #include <bitstuff/bitstuff.h>
 *
 *     cc app.c $(pkg-config --cflags --libs bitstuff)
 *     CMake: find_package(bitstuff CONFIG REQUIRED)
 *            target_link_libraries(app PRIVATE bitstuff::bitstuff)
 *
 * The public API is stuff.h (HDLC, USB and CAN stuffing and unstuffing of
 * packed bits and of '0'/'1' text, one-shot and streaming, rule names and
 * error texts) and bs_version() below; libbitstuff(3) describes it.  Only
 * these calls are exported from libbitstuff.so (BS_API, bs_api.h).  The
 * rest of src/lib (TLS, sockets, the protocol codec, logging) is internal
 * to the programs and not installed.
 */
#ifndef BITSTUFF_BITSTUFF_H
#define BITSTUFF_BITSTUFF_H

#include "bs_api.h"
#include "stuff.h"

/* The library's version, "MAJOR.MINOR.PATCH", of the libbitstuff.so
 * actually loaded (which may be newer than the headers compiled against).
 * A static string. */
BS_API const char *bs_version(void);

#endif /* BITSTUFF_BITSTUFF_H */
