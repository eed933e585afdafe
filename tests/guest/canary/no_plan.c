/* Rig canary: result lines with no "KTAP version" line and no plan.
 * The rig must not count these as passes of a well-formed program. */
#include <stdio.h>

int main(void)
{
	printf("ok 1 x\nok 2 y\nok 3 z\n");
	fflush(stdout);
	return 0;
}
