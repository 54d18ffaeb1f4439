/* blocked CMD [ARGS...]: run CMD with SIGILL, SIGSEGV and SIGBUS blocked,
 * as a parent process may leave them; the mask survives exec. The shell
 * cannot block signals itself, hence this helper for the system tests. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	sigset_t set;

	if (argc < 2) {
		fprintf(stderr, "usage: blocked CMD [ARGS...]\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGILL);
	sigaddset(&set, SIGSEGV);
	sigaddset(&set, SIGBUS);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		perror("blocked: sigprocmask");
		return 2;
	}
	execv(argv[1], argv + 1);
	perror("blocked: exec");
	return 127;
}
