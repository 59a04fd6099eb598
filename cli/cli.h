/* Subcommands of the `newsline` front end. Each takes the loaded config
 * and its own argv (argv[0] is the subcommand name) and returns an exit
 * code. */
#ifndef CLI_H
#define CLI_H

#include "nl_config.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* Delivery reports of a CLI producer (cli_on_delivery with a cli_tally as
 * the producer's opaque): acknowledged and failed messages, each failure
 * named on stderr. */
struct cli_tally {
    size_t acked, failed;
    size_t bytes;
};
void cli_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque);

int cli_replay(const nl_config *cfg, int argc, char **argv);
int cli_fetch(const nl_config *cfg, int argc, char **argv);
int cli_broker(const nl_config *cfg, int argc, char **argv);
int cli_topics(const nl_config *cfg, int argc, char **argv);
int cli_tail(const nl_config *cfg, int argc, char **argv);
int cli_produce(const nl_config *cfg, int argc, char **argv);
int cli_reindex(const nl_config *cfg, int argc, char **argv);
int cli_query(const nl_config *cfg, int argc, char **argv);
int cli_report(const nl_config *cfg, int argc, char **argv);

#endif
