/* SPDX-License-Identifier: MIT */
/* `fastfile user ...`: account management on DATA/fastfile.db, with or without a running server. */
#ifndef SERVER_USER_CLI_H
#define SERVER_USER_CLI_H

#include "store.h"

/** Run `fastfile user` with argv[0] == "user". Returns the process exit status. */
int user_cli(int argc, char **argv);

/**
 * Create user name with password pw (hashed with l) and its folder DATA/files/NAME.
 * Returns 0 or -errno (-EEXIST: the name is taken).
 */
int user_create(struct store *st, const char *data_dir, const char *name, const char *pw,
                const struct pw_limits *l);

#endif
