/* Metrics: a registry of counters and gauges with labels, rendered in the
 * Prometheus text exposition format 0.0.4 and served on GET /metrics by
 * libmicrohttpd (metrics.listen).
 *
 * A daemon creates one registry, declares its families (name, help, type,
 * label names) and gets a handle per labelled series once, where the thing
 * it counts is set up; the hot path then only touches the handle: an
 * atomic add or store, no lock, no lookup. Every handle operation accepts
 * NULL and does nothing, so code that counts need not ask whether metrics
 * are on (and a series refused by a cap simply is not counted).
 *
 * Label values often come from outside (source names, error codes): each
 * is cut to NL_METRICS_LABEL_MAX bytes (at a UTF-8 character boundary),
 * invalid UTF-8 and control characters other than newline become U+FFFD,
 * and the renderer escapes backslash, double quote and newline. Two values
 * that differ only past the cut share a series. Each family has a cap on
 * its number of series (set when it is declared): past it nl_metric_series
 * returns NULL, so a flood of distinct values cannot grow the registry.
 *
 * Threads: every function may be called from any thread. Declaring,
 * looking up, removing and rendering take the registry's mutex; handle
 * updates are atomics.
 *
 * Ownership: the registry owns its families and series; their handles are
 * valid until nl_metrics_free (or, for a series, nl_metric_remove). Strings
 * passed in are copied. */
#ifndef NL_METRICS_H
#define NL_METRICS_H

#include "nl_buf.h"

#include <stddef.h>
#include <stdint.h>

#define NL_METRICS_LABEL_MAX 128          /* bytes of a label value kept */
#define NL_METRICS_MAX_LABELS 8           /* label names per family */
#define NL_METRICS_RENDER_MAX (16u << 20) /* cap on one rendered page */

typedef struct nl_metrics nl_metrics;
typedef struct nl_metric nl_metric; /* a family: name, help, type, label names */
typedef struct nl_series nl_series; /* one set of label values, and its value */

/* An empty registry, or NULL on allocation failure. */
nl_metrics *nl_metrics_new(void);
/* Frees the registry, its families and series (stop the server first). */
void nl_metrics_free(nl_metrics *m);

/* Declares a counter (a value that only goes up) or a gauge family with
 * n_labels label names (0..NL_METRICS_MAX_LABELS) and at most max_series
 * series. Declaring a name again with the same type and label names
 * returns the same family (so two engines may both declare theirs); any
 * other redeclaration, an invalid metric or label name, or no memory
 * returns NULL. */
nl_metric *nl_metrics_counter(nl_metrics *m, const char *name, const char *help, size_t n_labels,
                              const char *const *labels, size_t max_series);
nl_metric *nl_metrics_gauge(nl_metrics *m, const char *name, const char *help, size_t n_labels,
                            const char *const *labels, size_t max_series);

/* The series of family f with these label values (one per label name,
 * in order; NULL values read as ""), created at 0 if new. NULL if f is
 * NULL, the family is at its series cap, or no memory. */
nl_series *nl_metric_series(nl_metric *f, const char *const *values);

/* Removes a series (after which its handle must not be used). Returns 1 if
 * it was there, else 0. For "info" gauges whose label changes (the last
 * error's code): remove the old one, create the new one. */
int nl_metric_remove(nl_metric *f, const char *const *values);

/* Counter: adds n. Gauge: adds n (a negative n subtracts on a gauge only;
 * see nl_series_sub). */
void nl_series_add(nl_series *s, uint64_t n);
void nl_series_inc(nl_series *s);
/* Gauges only (ignored on a counter). */
void nl_series_set(nl_series *s, double v);
void nl_series_sub(nl_series *s, uint64_t n);
/* The current value (tests). 0 for NULL. */
double nl_series_value(const nl_series *s);

/* Appends the whole registry to out in the text format: for each family
 * (in the order declared) its # HELP and # TYPE lines and one line per
 * series (in the order created). 0, or NL_ENOMEM / NL_ETOOBIG (out is then
 * empty, nl_buf.h). */
int nl_metrics_render(nl_metrics *m, nl_buf *out);

/* ---- the HTTP endpoint ------------------------------------------------ */

/* Parses a metrics.listen value: "host:port" or "[ipv6]:port", port
 * 0..65535 (0: any free port). An empty value is valid (off). 0 or
 * NL_EINVAL with the reason in errbuf. */
int nl_metrics_check_listen(const char *listen, char *errbuf, size_t errlen);

typedef struct nl_metrics_server nl_metrics_server;

/* Serves m on listen (see nl_metrics_check_listen) from a thread of its
 * own: GET or HEAD /metrics gives the page, /healthz the health check
 * (nl_metrics_set_health), another path 404, another method 405. Signals
 * are blocked in that thread. Returns 0 with *out set, or NL_EINVAL (bad
 * value, address in use, cannot bind) / NL_ENOMEM with a reason in errbuf
 * that names the address. m must outlive the server. */
int nl_metrics_serve(nl_metrics *m, const char *listen, nl_metrics_server **out, char *errbuf,
                     size_t errlen);

/* The health check a server of m answers on GET or HEAD /healthz: fn is
 * called (on the server's thread, so it must only read atomics or the
 * like) with a buffer for a short reason; it returns 1 when healthy (200,
 * body "ok\n") or 0 (503, body the reason and a newline). Without one (fn
 * NULL, the default) /healthz is 404 like any other path. May be set or
 * changed while serving; arg must stay valid until it is replaced or the
 * server stopped. */
typedef int (*nl_health_fn)(void *arg, char *reason, size_t len);
void nl_metrics_set_health(nl_metrics *m, nl_health_fn fn, void *arg);

/* The port actually bound (useful with port 0). */
int nl_metrics_server_port(const nl_metrics_server *srv);
/* Stops the thread and closes the socket. NULL is fine. */
void nl_metrics_server_stop(nl_metrics_server *srv);

#endif
