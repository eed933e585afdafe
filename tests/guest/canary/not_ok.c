/* Rig canary: one failing case. The rig must report canary_not_ok.broken as failed. */
#include <stdio.h>

int main(void)
{
	printf("KTAP version 1\n1..2\nok 1 fine\n# broken: this case fails on purpose\nnot ok 2 broken\n");
	fflush(stdout);
	return 1;
}
