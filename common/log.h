/*
 * log: the one place that writes to stderr. Every line is
 *   "<prog>: <ISO-8601 UTC time> <level>: <message>"
 * so that `prog: what failed: why` errors and periodic counters look the same in every stage and
 * in journald. -q lowers and -v raises the threshold (STYLE.md 8).
 */
#ifndef FURROW_LOG_H
#define FURROW_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *prog);
const char *log_prog(void);
void log_set_level(int level);
void log_adjust(int delta);          /* -q: -1, -v: +1 */
int  log_enabled(int level);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_msg(level, "%s", msg): the shape of the notice callback library code is handed (the
 * stream layer's Kafka client reports through it, since common/ never prints by itself). */
void log_line(int level, const char *msg);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
