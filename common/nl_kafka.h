/* Kafka clients configured for newsline's delivery rule. The stage runner
 * (nl_stage_run_kafka) is built on these; the CLI's replay uses the
 * producer alone.
 *
 * Every producer is idempotent with acks=all and a long message timeout;
 * every consumer has auto commit on and auto offset store off, so only
 * offsets the caller stores explicitly are ever committed. */
#ifndef NL_KAFKA_H
#define NL_KAFKA_H

#include "nl_config.h"

#include <librdkafka/rdkafka.h>

/* A producer with the newsline defaults, then the kafka.* passthrough.
 * dr_cb may be NULL. Returns NULL with the reason in errbuf. The caller
 * owns the handle (rd_kafka_destroy). */
rd_kafka_t *nl_kafka_producer_new(const nl_config *cfg, const char *client_id,
                                  void (*dr_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                                  void *opaque, char *errbuf, size_t errlen);

/* Whether any client made with these functions has had a fatal error
 * (librdkafka's RD_KAFKA_RESP_ERR__FATAL, e.g. an idempotent producer that
 * lost its guarantees): its owner should stop producing and exit 70. The
 * stage runner checks its own clients itself. */
int nl_kafka_fatal_seen(void);

/* Applies the kafka.* passthrough meant for this kind of client (see
 * nl_config.h). 0, or NL_EINVAL naming the key. */
int nl_kafka_apply_user(rd_kafka_conf_t *conf, const nl_config *cfg, enum nl_client client,
                        char *errbuf, size_t errlen);

/* Waits up to cfg->connect_timeout_ms for a metadata answer from the
 * brokers. 0, or NL_ETRANSIENT with the reason in errbuf. */
int nl_kafka_wait_brokers(rd_kafka_t *rk, const nl_config *cfg, char *errbuf, size_t errlen);

/* Produces one message, polling while the local queue is full (never
 * drops). Takes ownership of payload (freed by librdkafka) and hdrs on
 * success; on failure both stay the caller's. Returns the librdkafka
 * error. */
rd_kafka_resp_err_t nl_kafka_produce(rd_kafka_t *rk, const char *topic, const char *key,
                                     size_t keylen, char *payload, size_t len,
                                     rd_kafka_headers_t *hdrs, void *opaque);

#endif
