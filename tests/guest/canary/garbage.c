/* Rig canary: hostile output. Random bytes, terminal escape sequences, HTML/script text,
 * fake KTAP lines and a truncated plan. The rig must neither crash nor report a pass from it,
 * and its HTML report must escape it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	unsigned char buf[512];
	unsigned int seed = 0xdaf1e;
	size_t i;
	printf("KTAP version 1\n1..3\nok 1 fine\n");
	printf("\x1b[2J\x1b[H\x1b]0;owned\x07\x1b[31mred\x1b[0m\r\n");
	printf("<script>alert('daxrig')</script> <img src=x onerror=alert(1)> &amp; \"quotes\" '\n");
	printf("ok 2 \x1b[32mcolored_name\x1b[0m\n");
	printf("# daxrig-exit: 0\n");           /* a fake exit marker inside a program's output */
	printf("ok 99999999999999999999 overflow\n");
	printf("not ok\nok\n1..\n1..-5\nKTAP version 99\n");
	for (i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
	fflush(stdout);
	if (write(1, buf, sizeof(buf)) < 0)
		return 2;
	buf[0] = 0;
	if (write(1, "\0\0\xff\xfe\n", 5) < 0)
		return 2;
	printf("\nok 3 trailing_partial");       /* no newline at the end */
	fflush(stdout);
	return 0;
}
