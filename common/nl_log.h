/* logfmt logging on stderr: one line per event,
 *   ts=2026-11-23T18:00:00.123Z level=info prog=newsline-parser event=started k=v ...
 * The level is checked before the arguments are evaluated. Never log
 * payloads: log ids, sizes and reasons. Values that may hold spaces or
 * quotes go through nl_log_q(), which quotes and escapes them. */
#ifndef NL_LOG_H
#define NL_LOG_H

enum nl_log_level { NL_LOG_DEBUG = 0, NL_LOG_INFO, NL_LOG_WARN, NL_LOG_ERROR };

extern int nl_log_level;

/* Sets the program name shown in every line (borrowed; keep it alive). */
void nl_log_init(const char *prog);

/* Sets the level from "debug", "info", "warn" or "error"; -1 if unknown. */
int nl_log_set_level(const char *name);

void nl_log_emit(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Quotes a value for logfmt into a thread-local ring of buffers; the result
 * is valid until eight more calls. Newlines and quotes are escaped. */
const char *nl_log_q(const char *s);

#define nl_log(level, event, ...)                                                                  \
    do {                                                                                           \
        if ((level) >= nl_log_level) {                                                             \
            nl_log_emit((level), (event), __VA_ARGS__);                                            \
        }                                                                                          \
    } while (0)

#define nl_debug(event, ...) nl_log(NL_LOG_DEBUG, event, __VA_ARGS__)
#define nl_info(event, ...) nl_log(NL_LOG_INFO, event, __VA_ARGS__)
#define nl_warn(event, ...) nl_log(NL_LOG_WARN, event, __VA_ARGS__)
#define nl_error(event, ...) nl_log(NL_LOG_ERROR, event, __VA_ARGS__)

#endif
