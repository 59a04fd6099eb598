/* newsline broker: librdkafka's mock cluster on loopback.
 * In memory only, for demos and tests: it speaks the Kafka protocol
 * (consumer groups included) but keeps nothing on disk. */
#include "cli.h"
#include "nl_log.h"
#include "nl_stage.h"

#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_broker(const nl_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {{"partitions", required_argument, NULL, 'p'},
                                         {"bootstrap-file", required_argument, NULL, 'f'},
                                         {"brokers", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    /* the fetcher's seen-set changelog needs the fetch topic's partition
     * count, and the mock cluster has no CreateTopics: made here too */
    const char *topics[] = {cfg->topic_fetch,  cfg->topic_raw, cfg->topic_parsed,
                            cfg->topic_tagged, cfg->topic_dlq, cfg->topic_fetch_seen};
    long partitions = 6, nbrokers = 1;
    const char *bootstrap_file = NULL;
    char errstr[512];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        char *end = NULL;
        if (c == 'p') {
            partitions = strtol(optarg, &end, 10);
        } else if (c == 'b') {
            nbrokers = strtol(optarg, &end, 10);
        } else if (c == 'f') {
            bootstrap_file = optarg;
        } else {
            fprintf(stderr, "newsline broker: usage: broker [--partitions N] [--brokers N] "
                            "[--bootstrap-file FILE]\n");
            return NL_EXIT_USAGE;
        }
        if (end != NULL &&
            (*end != '\0' || partitions < 1 || partitions > 1000 || nbrokers < 1 || nbrokers > 9)) {
            fprintf(stderr, "newsline broker: --partitions 1..1000, --brokers 1..9\n");
            return NL_EXIT_USAGE;
        }
    }
    /* The mock cluster lives inside a client instance. */
    conf = rd_kafka_conf_new();
    /* its host client has no bootstrap servers of its own: quiet that warning */
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "newsline broker: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return NL_EXIT_SOFTWARE;
    }
    mc = rd_kafka_mock_cluster_new(rk, (int)nbrokers);
    if (mc == NULL) {
        fprintf(stderr, "newsline broker: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return NL_EXIT_SOFTWARE;
    }
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(mc, topics[i], (int)partitions, (int)nbrokers);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "newsline broker: cannot create %s: %s\n", topics[i],
                    rd_kafka_err2str(err));
        }
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    if (bootstrap_file != NULL) {
        char tmp[4096];
        FILE *f;
        snprintf(tmp, sizeof(tmp), "%s.tmp", bootstrap_file);
        f = fopen(tmp, "w");
        if (f == NULL || fprintf(f, "%s\n", rd_kafka_mock_cluster_bootstraps(mc)) < 0 ||
            fclose(f) != 0 || rename(tmp, bootstrap_file) != 0) {
            fprintf(stderr, "newsline broker: cannot write %s\n", bootstrap_file);
        }
    }
    nl_info("broker_started", "bootstrap=%s partitions=%ld brokers=%ld storage=memory",
            rd_kafka_mock_cluster_bootstraps(mc), partitions, nbrokers);
    while (!nl_stop) {
        pause();
    }
    nl_info("broker_stopping", "note=\"in-memory: all topics and offsets are discarded\"");
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return NL_EXIT_OK;
}
