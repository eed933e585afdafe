/* Rig canary: valid KTAP with every case ok, but the program exits 3.
 * The rig must report the program as "not ok ... # ERROR exit=3", never as passed. */
#include <stdio.h>

int main(void)
{
	printf("KTAP version 1\n1..2\nok 1 first\nok 2 second\n");
	fflush(stdout);
	return 3;
}
