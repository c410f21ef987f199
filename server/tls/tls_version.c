/* SPDX-License-Identifier: MIT */
/* Which TLS library this binary was built with, for --version and the start-up log. */
#include "tls/tls.h"

#include <openssl/crypto.h>

const char *tls_library_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}
