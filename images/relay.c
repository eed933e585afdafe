/* daxrig-relay: the guest side of the results channel.
 *
 *   daxrig-relay --run SECS STATUS PROG   run PROG in a session of its own with its stdout on a pipe; copy
 *                                          that output to fd 1 indented by two spaces (a subtest of init's
 *                                          document), waiting after each chunk until the serial port has
 *                                          sent it (tcdrain). When PROG exits, whatever it left running in
 *                                          its session is killed and counted. After SECS seconds PROG and
 *                                          its session are killed (a timeout). STATUS gets two lines:
 *                                          "exit N" | "signal N" | "timeout", then "left N".
 *   prog | daxrig-relay >&3                the copy alone (no program of its own)
 *   daxrig-relay --drain >&3               only wait until everything written to fd 1 has left the port
 *
 * Why: bytes written to a tty sit in the kernel's transmit buffer until the UART interrupt sends them, and a
 * kernel panic (or poweroff -f) drops that buffer. Draining after every chunk means a line that reached the
 * relay is on the host before the program that printed it can crash the kernel (ktap.h's kt_sync() waits
 * for the relay to have read it). A last line without a newline gets one: init's own result line must never
 * be glued onto a program's output.
 * A program's end is its end: a daemon it forked that keeps stdout open would otherwise hold the pipe open
 * and make a finished program look hung (the kselftest runner kills the process group for the same
 * reason). A SIGKILL from the guest's OOM killer is reported as a signal, never as our timeout.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int at_start = 1;

static int put(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(1, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void drain(void)
{
	/* not a tty (a file or pipe in a host test): nothing to wait for */
	while (tcdrain(1) < 0 && errno == EINTR)
		;
}

/* Indent and forward one chunk; <0 on a write error. */
static int relay_chunk(const char *in, ssize_t n)
{
	/* worst case every byte is a newline: each gains the two-space indent */
	static char out[3 * 4096];
	size_t o = 0;

	for (ssize_t i = 0; i < n; i++) {
		if (at_start) {
			out[o++] = ' ';
			out[o++] = ' ';
			at_start = 0;
		}
		out[o++] = in[i];
		if (in[i] == '\n')
			at_start = 1;
	}
	if (put(out, o) < 0)
		return -1;
	drain();
	return 0;
}

static int finish_line(void)
{
	if (!at_start && put("\n", 1) < 0)
		return -1;
	at_start = 1;
	drain();
	return 0;
}

static int copy_stdin(void)
{
	char in[4096];

	for (;;) {
		ssize_t n = read(0, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (relay_chunk(in, n) < 0)
			return 1;
	}
	return finish_line() < 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Processes still in session `sid` (PROG's): field 6 of /proc/PID/stat. Kills them when `kill_them`. */
static int session_members(pid_t sid, int kill_them)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int count = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[64], buf[512], *p;
		long pid = strtol(e->d_name, &p, 10);
		int fd, field;
		ssize_t n;

		if (*p || pid <= 1 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		/* the command name may hold spaces and parentheses: fields start after the last ')' */
		p = strrchr(buf, ')');
		if (!p)
			continue;
		for (field = 2; field < 6 && p; field++)
			p = strchr(p + 1, ' ');
		if (!p || strtol(p + 1, NULL, 10) != sid)
			continue;
		/* a zombie is gone already: only its parent has to reap it */
		if (strstr(buf, ") Z "))
			continue;
		count++;
		if (kill_them)
			kill((pid_t)pid, SIGKILL);
	}
	closedir(d);
	return count;
}

static int run(int secs, const char *status_path, char **argv)
{
	int fds[2], status = 0, left = 0, timed_out = 0, exited = 0;
	double deadline = now() + secs, linger = 0;
	char in[4096];
	pid_t pid;
	FILE *st;

	if (pipe(fds) < 0)
		return 2;
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		setsid();
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		int r = poll(&p, 1, 100);

		if (r > 0) {
			ssize_t n = read(fds[0], in, sizeof(in));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break; /* every writer is gone */
			if (relay_chunk(in, n) < 0)
				return 2;
			continue;
		}
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			/* what PROG left behind in its session keeps the pipe open: count it, end it */
			left = session_members(pid, 1);
			linger = now() + 2;
		}
		if (!exited && now() > deadline) {
			timed_out = 1;
			kill(-pid, SIGKILL);
			session_members(pid, 1);
		}
		/* a grandchild that left the session cannot be found; stop reading after a grace period */
		if (exited && now() > linger)
			break;
	}
	if (!exited) {
		waitpid(pid, &status, 0);
		left += session_members(pid, 1);
	}
	close(fds[0]);
	if (finish_line() < 0)
		return 2;
	st = fopen(status_path, "w");
	if (!st)
		return 2;
	if (timed_out)
		fprintf(st, "timeout\n");
	else if (WIFSIGNALED(status))
		fprintf(st, "signal %d\n", WTERMSIG(status));
	else
		fprintf(st, "exit %d\n", WEXITSTATUS(status));
	fprintf(st, "left %d\n", left);
	fclose(st);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--drain")) {
		drain();
		return 0;
	}
	if (argc > 4 && !strcmp(argv[1], "--run")) {
		signal(SIGPIPE, SIG_IGN);
		return run(atoi(argv[2]), argv[3], argv + 4);
	}
	return copy_stdin();
}
