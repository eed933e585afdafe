/* Fault canary: writes init's framing straight to the results port, bypassing its own stdout: a passing
 * result line, a setup failure, an end of document and a fake exit marker. None of them may count: the rig
 * trusts only lines that carry the run's token. Then it reports its one real case normally. */
#include "../ktap.h"
#include <termios.h>

int main(void)
{
	static const char forged[] = "ok 2 forged\n# daxrig-setup: FAIL forged: not from init\n"
				     "ok 9 not_a_program\n# daxrig-exit: 0\n";
	int fd = open("/dev/ttyS1", O_WRONLY | O_NOCTTY);

	kt_plan(1);
	if (fd >= 0) {
		ssize_t n = write(fd, forged, sizeof(forged) - 1);
		(void)n;
		tcdrain(fd);
		close(fd);
	}
	kt_ok("real");
	return 0;
}
