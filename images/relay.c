/* daxrig-relay: the guest side of the results channel.
 *
 *   prog | daxrig-relay >&3     copy a test program's KTAP to fd 1 indented by two spaces (a subtest of
 *                               init's document), and wait after each chunk until the serial port has
 *                               sent it (tcdrain)
 *   daxrig-relay --drain >&3    only wait until everything written to fd 1 has left the serial port
 *
 * Why: bytes written to a tty sit in the kernel's transmit buffer until the UART interrupt sends them, and a
 * kernel panic (or poweroff -f) drops that buffer. Draining after every chunk means a line that reached the
 * relay is on the host before the program that printed it can crash the kernel (ktap.h's kt_sync() waits
 * for the relay to have read it). A last line without a newline gets one: init's own result line must never
 * be glued onto a program's output. Static, no libc beyond read/write/tcdrain.
 */
#include <errno.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
	char in[4096];
	/* worst case every byte is a newline: each gains the two-space indent */
	static char out[3 * sizeof(in)];
	int at_start = 1;

	if (argc > 1 && !strcmp(argv[1], "--drain")) {
		drain();
		return 0;
	}
	for (;;) {
		ssize_t n = read(0, in, sizeof(in));
		size_t o = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
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
			return 1;
		drain();
	}
	if (!at_start && put("\n", 1) < 0)
		return 1;
	drain();
	return 0;
}
