/*
 * sig: signal plumbing shared by the stages (DESIGN.md "Rules every stage follows").
 *
 * SIGPIPE is ignored everywhere: EPIPE is handled where the write happens. Event-loop stages
 * receive SIGTERM/SIGINT/SIGHUP as libevent signal events (sig_event_add), so handlers run inside
 * the loop. Blocking filters use sig_flags_install: the handlers only set flags and are installed
 * without SA_RESTART, so a blocked read(2) returns EINTR and the loop can look at the flags.
 */
#ifndef FURROW_SIG_H
#define FURROW_SIG_H

#include <signal.h>

struct event_base;
struct event;

extern volatile sig_atomic_t sig_terminate;   /* SIGTERM or SIGINT seen */
extern volatile sig_atomic_t sig_reopen;      /* SIGHUP seen */

void sig_ignore_pipe(void);
void sig_flags_install(void);
/* A persistent libevent signal event; returns NULL on failure. */
struct event *sig_event_add(struct event_base *base, int signo,
    void (*cb)(int, short, void *), void *arg);

#endif
