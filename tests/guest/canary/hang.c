/* Rig canary: prints the plan and one ok, then sleeps forever.
 * The rig's per-program timeout must fire ("# TIMEOUT") and the missing case must not pass. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("KTAP version 1\n1..2\nok 1 before_hang\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}
