/*
 * sig: SIGPIPE, flag handlers for blocking filters, libevent signal events (see sig.h).
 */
#include "sig.h"

#include <event2/event.h>
#include <string.h>

volatile sig_atomic_t sig_terminate;
volatile sig_atomic_t sig_reopen;

void
sig_ignore_pipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

static void
sig_flag_handler(int signo)
{
	if (signo == SIGHUP)
		sig_reopen = 1;
	else
		sig_terminate = 1;
}

static void
sig_flags_install_with(int sa_flags)
{
	struct sigaction sa;

	sig_ignore_pipe();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_flag_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = sa_flags;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void
sig_flags_install(void)
{
	sig_flags_install_with(SA_RESTART);
}

void
sig_flags_install_eintr(void)
{
	sig_flags_install_with(0);
}

struct event *
sig_event_add(struct event_base *base, int signo, void (*cb)(int, short, void *), void *arg)
{
	struct event *ev = evsignal_new(base, signo, cb, arg);

	if (ev == NULL)
		return NULL;
	if (evsignal_add(ev, NULL) == -1) {
		event_free(ev);
		return NULL;
	}
	return ev;
}
