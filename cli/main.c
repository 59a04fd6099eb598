/* newsline: the front end. Replays documents into the pipeline, asks the
 * fetcher for URLs, and hosts the embedded (in-memory) broker. */
#include "cli.h"
#include "nl_stage.h"

#include <stdio.h>
#include <string.h>

static const char summary[] =
    "newsline front end.\n\n"
    "Usage: newsline [options] COMMAND [ARGS]\n\n"
    "Commands:\n"
    "  replay [--copies N] [--salt S] [PATH...]\n"
    "        produce documents into newsline.raw as text/plain records (default: the\n"
    "        seed documents NNN_<id>.txt of sink.corpus_dir), then print a summary\n"
    "  fetch URL...\n"
    "        ask the fetcher to fetch URLs (records on newsline.fetch)\n"
    "  broker [--partitions N] [--bootstrap-file FILE]\n"
    "        run librdkafka's mock cluster on 127.0.0.1 and print its bootstrap address.\n"
    "        IN-MEMORY, FOR DEMOS AND TESTS ONLY: nothing is kept on disk and everything\n"
    "        is gone when it stops. Use deploy/kafka.sh for a real broker.\n"
    "  topics [--partitions N] [--replication N]\n"
    "        create the pipeline topics on a real broker (sized for max_record_bytes)\n"
    "  tail [--count N] [--idle-ms MS] [--meta | --brief] [--group G] TOPIC...\n"
    "        print records from topics as JSON lines, from the beginning (--meta adds\n"
    "        topic, partition, offset and headers; --brief: one line per record)\n"
    "  tail [--from-beginning] [--tag ID]... [--tag-regex RE] [options as above]\n"
    "        follow the tag topics (tagger.tag_topic_prefix + actor or event id; RE\n"
    "        matches whole ids): records from now on, or all with --from-beginning;\n"
    "        never commits offsets\n"
    "  produce TOPIC\n"
    "        produce each line of standard input as one message, byte for byte\n"
    "  reindex [--corpus DIR]\n"
    "        rebuild the corpus index (DIR/.nl-index.db) from the files (default DIR:\n"
    "        sink.corpus_dir)\n"
    "  query [--corpus DIR] [--actor ID]... [--event ID] [--since DATE] [--until DATE]\n"
    "        [--source S] [--text FTS-QUERY] [--json] [--count] [--limit N]\n"
    "        documents (latest versions) matching every condition, newest first, as a\n"
    "        table (--json: NDJSON); --count: mentions per actor per day; DATE is\n"
    "        YYYY-MM-DD, inclusive; --limit defaults to 100 (0: all); exit 2 on an\n"
    "        unknown actor or event, a bad date or a bad full-text query\n"
    "  report [--corpus DIR] [--out FILE] [--since DATE] [--top N] [--docs N] [--by day|week]\n"
    "        write a static HTML page (no network needed to view it): mentions per actor\n"
    "        over time, the actor co-occurrence network, the latest documents per actor\n"
    "        with their evidence sentences (default FILE: newsline-report.html)\n"
    "  config\n"
    "        print the effective configuration as JSON\n\n"
    "Options come before the command.";

int main(int argc, char **argv)
{
    nl_config cfg;
    int stdin_mode;
    int argi;
    int rc = nl_daemon_init(argc, argv, "newsline", summary, &cfg, &stdin_mode, &argi);
    const char *cmd;

    if (rc != 0) {
        nl_config_free(&cfg);
        return rc < 0 ? 0 : rc;
    }
    if (argi >= argc) {
        fprintf(stderr, "newsline: no command given (see newsline --help)\n");
        nl_config_free(&cfg);
        return NL_EXIT_USAGE;
    }
    cmd = argv[argi];
    for (int i = argi + 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s\n", summary);
            nl_config_free(&cfg);
            return 0;
        }
    }
    if (strcmp(cmd, "replay") == 0) {
        rc = cli_replay(&cfg, argc - argi, argv + argi);
    } else if (strcmp(cmd, "fetch") == 0) {
        rc = cli_fetch(&cfg, argc - argi, argv + argi);
    } else if (strcmp(cmd, "broker") == 0) {
        rc = cli_broker(&cfg, argc - argi, argv + argi);
    } else if (strcmp(cmd, "topics") == 0) {
        rc = cli_topics(&cfg, argc - argi, argv + argi);
    } else if (strcmp(cmd, "tail") == 0) {
        rc = cli_tail(&cfg, argc - argi, argv + argi);
    } else if (strcmp(cmd, "produce") == 0) {
        rc = cli_produce(&cfg, argc - argi, argv + argi);
    } else if (strcmp(cmd, "reindex") == 0) {
        rc = cli_reindex(&cfg, argc - argi, argv + argi);
    } else if (strcmp(cmd, "query") == 0) {
        rc = cli_query(&cfg, argc - argi, argv + argi);
    } else if (strcmp(cmd, "report") == 0) {
        rc = cli_report(&cfg, argc - argi, argv + argi);
    } else if (strcmp(cmd, "config") == 0) {
        nl_config_print(&cfg, stdout);
        rc = 0;
    } else {
        fprintf(stderr, "newsline: unknown command \"%s\" (see newsline --help)\n", cmd);
        rc = NL_EXIT_USAGE;
    }
    nl_config_free(&cfg);
    return rc;
}
