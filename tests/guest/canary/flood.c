/* Fault canary: 20,000 lines into the kernel log (/dev/kmsg), then one passing case. The rig must keep up
 * (console streamed to disk, capped in memory) and still end ok. */
#include "../ktap.h"

int main(void)
{
	int fd = open("/dev/kmsg", O_WRONLY);
	char line[96];

	kt_plan(1);
	if (fd < 0) {
		kt_fail("flooded", "cannot open /dev/kmsg: %s", strerror(errno));
		return 1;
	}
	for (int i = 0; i < 20000; i++) {
		int n = snprintf(line, sizeof(line), "daxrig-flood: line %d of 20000 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", i);
		if (write(fd, line, (size_t)n) < 0 && errno != EAGAIN)
			break;
	}
	close(fd);
	kt_ok("flooded");
	return 0;
}
