/* Fault canary: two passing cases, then a forked helper that keeps our stdout open and outlives us (a helper
 * server, a background writer), and exit 0. The program's end is its end: the rig must report both cases
 * passed, the program ok, and a note that it left processes behind; never a hang. */
#include "../ktap.h"

int main(void)
{
	kt_plan(2);
	kt_ok("first");
	if (fork() == 0) {
		/* the daemon: stdout stays the pipe to the relay */
		for (;;)
			sleep(60);
	}
	kt_ok("second");
	return 0;
}
