/*
 * bs_api.h - BS_API marks a declaration as part of libbitstuff's public
 * API (libbitstuff(3)).
 *
 * The shared library is compiled with hidden visibility by default
 * (-fvisibility=hidden), so only declarations marked BS_API are exported
 * from libbitstuff.so; everything else stays internal and can change
 * without breaking the ABI.  Applications include <bitstuff/bitstuff.h>
 * and never need this header directly.
 */
#ifndef BS_API_H
#define BS_API_H

#if defined(__GNUC__) || defined(__clang__)
#define BS_API __attribute__((visibility("default")))
#else
#define BS_API
#endif

#endif /* BS_API_H */
