/* Rig canary: prints one ok, then crashes the kernel through sysrq-c.
 * The rig must see the panic on the console and report a crash: no "# daxrig-exit:" line arrives.
 * Never run this on the host (the unit test only compiles it). */
#include "../ktap.h"

static int put_str(const char *path, const char *s)
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
	/* as a real suite would: the result line goes through kt_ok (and so kt_sync) before the crash */
	kt_plan(2);
	kt_ok("before_panic");
	sync();
	if (put_str("/proc/sys/kernel/sysrq", "1") < 0)
		printf("# could not enable sysrq\n");
	fflush(stdout);
	if (put_str("/proc/sysrq-trigger", "c") < 0)
		printf("# could not write /proc/sysrq-trigger\n");
	/* not reached on a real guest */
	printf("not ok 2 panic_did_not_happen\n");
	fflush(stdout);
	return 1;
}
