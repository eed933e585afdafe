/* Fault canary: touches anonymous memory until the guest's OOM killer ends it (SIGKILL). The rig must read
 * the end as "killed by the OOM killer" (the console says so), never as a timeout. */
#include "../ktap.h"

int main(void)
{
	size_t chunk = 16 << 20;

	kt_plan(1);
	/* a score of 1000 makes this program the OOM killer's first choice, not init or the relay */
	{
		int fd = open("/proc/self/oom_score_adj", O_WRONLY);
		if (fd >= 0) {
			ssize_t n = write(fd, "1000", 4);
			(void)n;
			close(fd);
		}
	}
	kt_sync();
	for (;;) {
		char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			continue;
		memset(p, 0x5a, chunk);
	}
	return 1;
}
