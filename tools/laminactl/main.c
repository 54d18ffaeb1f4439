/* laminactl: ask lamina, from inside its guest, about itself. */
#include <stdio.h>
#include <string.h>

#include "laminactl.h"

struct command {
	const char *name;
	int (*run)(const struct lamina_info *info);
	const char *help;
};

static const struct command commands[] = {
	{ "version", cmd_version, "lamina's version, virtualization back end and CPU count" },
	{ "stats", cmd_stats, "VM exit counts by reason for each CPU, with totals" },
	{ "meminfo", cmd_meminfo, "the physical memory lamina keeps for itself" },
	{ "log", cmd_log, "lamina's log" },
	{ "help", NULL, "this text" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: laminactl COMMAND\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nExit status: 0 on success, 1 when not running under lamina or a\n"
		     "request fails, 2 on bad usage.\n");
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	struct lamina_info info;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return LCTL_OK;
	}
	cmd = argc >= 2 ? find(argv[1]) : NULL;
	if (!cmd || argc > 2) {
		if (argc < 2)
			fprintf(stderr, "laminactl: no command given\n");
		else if (!cmd)
			fprintf(stderr, "laminactl: unknown command '%s'\n", argv[1]);
		else
			fprintf(stderr, "laminactl: '%s' takes no arguments\n", argv[1]);
		usage(stderr);
		return LCTL_USAGE;
	}
	if (!cmd->run) {
		usage(stdout);
		return LCTL_OK;
	}
	if (lamina_probe(&info) != 0)
		return LCTL_FAIL;
	return cmd->run(&info);
}
