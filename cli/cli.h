/* Subcommands of the `newsline` front end. Each takes the loaded config
 * and its own argv (argv[0] is the subcommand name) and returns an exit
 * code. */
#ifndef CLI_H
#define CLI_H

#include "nl_config.h"

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
