/* SPDX-License-Identifier: ISC */
/* proxy.h -- `loadctl proxy`: stdin/stdout joined to the control socket. */
#ifndef LOADD_CTL_PROXY_H
#define LOADD_CTL_PROXY_H

/* Runs until the daemon closes; the exit status (0, 2 usage, 3 unreachable). */
int	 proxy_main(const char *path);

#endif
