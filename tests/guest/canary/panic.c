/* Rig canary: prints one ok, then crashes the kernel through sysrq-c.
 * The rig must see the panic on the console and report a crash: no "# daxrig-exit:" line arrives.
 * Never run this on the host (the unit test only compiles it). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -1 : 0;
}

int main(void)
{
	printf("KTAP version 1\n1..2\nok 1 before_panic\n");
	fflush(stdout);
	sync();
	if (put("/proc/sys/kernel/sysrq", "1") < 0)
		printf("# could not enable sysrq\n");
	fflush(stdout);
	if (put("/proc/sysrq-trigger", "c") < 0)
		printf("# could not write /proc/sysrq-trigger\n");
	/* not reached on a real guest */
	printf("not ok 2 panic_did_not_happen\n");
	fflush(stdout);
	return 1;
}
