/* SPDX-License-Identifier: ISC */
/*
 * daemon/control.h -- the control socket: a unix stream socket, one
 * request line in, one JSON line out, many clients at once, and `watch`
 * subscribers fed at every stats interval.  Main thread only.
 */
#ifndef LOADD_DAEMON_CONTROL_H
#define LOADD_DAEMON_CONTROL_H

/*
 * The control socket at path, and the read-only one if the profile names
 * daemon.status_socket.  0, or -1 after logging why.
 */
int	 control_init(const char *path, int mode, int max_clients,
	    double client_timeout);
void	 control_configure(int max_clients, double client_timeout);
void	 control_cleanup(void);
void	 control_tick(void);	/* feed `watch` subscribers */

#endif
