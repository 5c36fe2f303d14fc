/*
 * sig: signal plumbing shared by the stages (DESIGN.md "Rules every stage follows").
 *
 * SIGPIPE is ignored everywhere: EPIPE is handled where the write happens. Event-loop stages
 * receive SIGTERM/SIGINT/SIGHUP as libevent signal events (sig_event_add), so handlers run inside
 * the loop. Filters without an event loop use flag handlers: the handlers only set
 * sig_terminate / sig_reopen and the loop looks at them.
 *
 * sig_flags_install installs them with SA_RESTART: a read(2) or write(2) that a signal interrupts
 * goes on, so stdio and blocked writes to a slow reader never fail with EINTR; poll(2) is never
 * restarted, so a loop that waits in poll still sees the signal at once. Use it in stages that
 * wait for input in poll (es-sink, s3-sink).
 *
 * sig_flags_install_eintr installs them without SA_RESTART, for a stage that blocks in read(2)
 * and must see a signal there (enrich). There every read and write loop retries EINTR itself.
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
void sig_flags_install_eintr(void);
/* A persistent libevent signal event; returns NULL on failure. */
struct event *sig_event_add(struct event_base *base, int signo,
    void (*cb)(int, short, void *), void *arg);

#endif
