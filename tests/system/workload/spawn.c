/* The process part: fork + exec + wait, a fixed number of times. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload.h"

#define SPAWNS 500
#define PROGRAM "/bin/true"

static int spawn_one(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("workload: fork");
		return -1;
	}
	if (pid == 0) {
		execl(PROGRAM, PROGRAM, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "workload: %s failed (status %#x)\n", PROGRAM, status);
		return -1;
	}
	return 0;
}

int work_spawn(uint64_t *sum)
{
	for (int i = 0; i < SPAWNS; i++)
		if (spawn_one() != 0)
			return -1;
	*sum = SPAWNS;
	return 0;
}
