/*
 * ktap.h - tiny KTAP v1 helpers shared by daxrig guest test programs.
 *
 * Contract: docs/guest-protocol.md.  Programs include only libc + this header.
 * musl-gcc (Debian) does not see <linux/...> uapi headers, so every uapi
 * constant/struct the programs need is defined here or in the program itself
 * (with a DR_/kt_ prefix to never clash with a libc that has them).
 *
 * Usage:
 *   kt_plan(N);                      "KTAP version 1" + "1..N"
 *   kt_ok(name) / kt_fail(name, fmt, ...) / kt_skip(name, fmt, ...)
 *   kt_diag(fmt, ...)                "# ..." line (print BEFORE the result it explains)
 *   kt_expect(name, rc, err, want)   pass iff (want==0 ? rc succeeded : rc failed with errno want)
 *   kt_env(name) -> string or NULL   (empty string counts as unset)
 *   kt_env_num(name) -> number or -1 (accepts 0x.. hex)
 *   kt_run_child(fn, arg, &res)      fork; res.exited/res.code/res.signaled/res.sig
 *   kt_statx_dax(path) -> 1 DAX, 0 not DAX, -errno on failure
 *   return kt_exit();                0 if nothing failed, else 1
 *   kt_sync()                        flush; wait until the results relay has read it (called by every
 *                                    result line; call it yourself before doing something that may
 *                                    crash the kernel after printing)
 */
#ifndef DAXRIG_KTAP_H
#define DAXRIG_KTAP_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define KT_FN static __attribute__((unused))
#define KT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- uapi constants musl may lack (x86_64 numbers) ---- */
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x080000
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define KT_MAP_UNKNOWN_BIT 0x200000 /* unused by every kernel: "unknown flag" probe (facts §4) */
#ifndef SYS_statx
#define SYS_statx 332
#endif
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_io_uring_register
#define SYS_io_uring_register 427
#endif
#ifndef SYS_memfd_create
#define SYS_memfd_create 319
#endif
#define KT_STATX_BASIC_STATS 0x000007ffU
#define KT_STATX_ATTR_DAX 0x00200000ULL
#ifndef AT_FDCWD
#define AT_FDCWD -100
#endif

struct kt_statx_ts {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};
struct kt_statx { /* struct statx, 256 bytes */
	uint32_t stx_mask;
	uint32_t stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink;
	uint32_t stx_uid;
	uint32_t stx_gid;
	uint16_t stx_mode;
	uint16_t spare0;
	uint64_t stx_ino;
	uint64_t stx_size;
	uint64_t stx_blocks;
	uint64_t stx_attributes_mask;
	struct kt_statx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t spare2[14];
};

/* ---- KTAP output ---- */
static int kt_planned __attribute__((unused));
static int kt_num __attribute__((unused));
static int kt_failed __attribute__((unused));

/* Flush stdout and, when it is a pipe (init's results relay), wait up to ~0.2 s until the relay has read
 * everything: the relay sends what it reads to the host before it reads more, so a result line printed
 * before a case that crashes the kernel still reaches the host instead of reading as "crashed". */
KT_FN void kt_sync(void)
{
	struct stat st;
	int n, i;

	fflush(stdout);
	if (fstat(1, &st) || !S_ISFIFO(st.st_mode))
		return;
	for (i = 0; i < 2000; i++) {
		if (ioctl(1, FIONREAD, &n) || n <= 0)
			return;
		usleep(100);
	}
}

KT_FN void kt_plan(int n)
{
	/* line-buffered so nothing is lost or duplicated across fork() */
	setvbuf(stdout, NULL, _IOLBF, 0);
	kt_planned = n;
	printf("KTAP version 1\n1..%d\n", n);
	fflush(stdout);
}

KT_FN void kt_vdiag(const char *fmt, va_list ap)
{
	char buf[1024];
	char *p, *nl;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* one "# " per line; never let a diag break the KTAP framing */
	for (p = buf;; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		printf("# %s\n", p);
		if (!nl || !nl[1])
			break;
	}
	fflush(stdout);
}

KT_PRINTF(1, 2) KT_FN void kt_diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kt_vdiag(fmt, ap);
	va_end(ap);
}

KT_FN void kt_ok(const char *name)
{
	printf("ok %d %s\n", ++kt_num, name);
	kt_sync();
}

KT_PRINTF(2, 3) KT_FN void kt_fail(const char *name, const char *fmt, ...)
{
	va_list ap;
	if (fmt && *fmt) {
		char buf[1024];
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		kt_diag("%s: %s", name, buf);
	}
	kt_failed++;
	printf("not ok %d %s\n", ++kt_num, name);
	kt_sync();
}

KT_PRINTF(2, 3) KT_FN void kt_skip(const char *name, const char *fmt, ...)
{
	char buf[512];
	char *c;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (c = buf; *c; c++) /* a skip reason is one line */
		if (*c == '\n' || *c == '#')
			*c = ' ';
	printf("ok %d %s # SKIP %s\n", ++kt_num, name, buf);
	kt_sync();
}

/* Pad/trim so the plan always matches (a bug in a program must not look like a crash). */
KT_FN int kt_exit(void)
{
	if (kt_num != kt_planned)
		kt_diag("BUG: plan said %d cases, printed %d", kt_planned, kt_num);
	while (kt_num < kt_planned) {
		kt_failed++;
		printf("not ok %d missing_case_%d\n", kt_num + 1, kt_num + 1);
		kt_num++;
	}
	kt_sync();
	return kt_failed ? 1 : 0;
}

/* ---- errno names (diagnostics) ---- */
KT_FN const char *kt_errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case ETXTBSY: return "ETXTBSY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case EROFS: return "EROFS";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EOVERFLOW: return "EOVERFLOW";
	default: return "E?";
	}
}

/* "0" or "-1 EOPNOTSUPP (95)" */
KT_FN const char *kt_rcstr(long rc, int err)
{
	static char buf[4][64];
	static int i;
	char *b = buf[i++ & 3];
	if (rc >= 0)
		snprintf(b, 64, "%ld", rc);
	else
		snprintf(b, 64, "-1 %s (%d)", kt_errname(err), err);
	return b;
}

KT_FN const char *kt_wantstr(int want)
{
	static char buf[2][48];
	static int i;
	char *b = buf[i++ & 1];
	if (want == 0)
		snprintf(b, 48, "success");
	else
		snprintf(b, 48, "%s (%d)", kt_errname(want), want);
	return b;
}

/*
 * Report one case from a syscall result: want == 0 means "must succeed",
 * otherwise "must fail with errno want". Returns 1 if passed.
 */
KT_FN int kt_expect(const char *name, long rc, int err, int want)
{
	int got = rc < 0 ? err : 0;
	kt_diag("%s: got %s, want %s", name, kt_rcstr(rc, err), kt_wantstr(want));
	if (got == want) {
		kt_ok(name);
		return 1;
	}
	kt_fail(name, "unexpected result");
	return 0;
}

/* ---- environment ---- */
KT_FN const char *kt_env(const char *name)
{
	const char *v = getenv(name);
	return (v && *v) ? v : NULL;
}

KT_FN long kt_env_num(const char *name)
{
	const char *v = kt_env(name);
	char *end;
	long n;
	if (!v)
		return -1;
	errno = 0;
	n = strtol(v, &end, 0);
	if (errno || *end || n < 0)
		return -1;
	return n;
}

/* ---- run a case in a child (SIGBUS/SIGSEGV probes) ---- */
struct kt_child {
	int exited;   /* 1 if the child exited normally */
	int code;     /* its exit code */
	int signaled; /* 1 if killed by a signal */
	int sig;      /* the signal */
};

#define KT_CHILD_TIMEOUT 60 /* seconds; SIGALRM kills a stuck child (TCG is slow) */

/*
 * Runs fn(arg) in a forked child, which exits with fn's return value.
 * Returns 0 and fills *res, or -1 if fork/wait failed (errno set).
 * The child inherits stdout; it may print diag lines (flushed) but never a result line.
 */
KT_FN int kt_run_child(int (*fn)(void *), void *arg, struct kt_child *res)
{
	pid_t pid;
	int st;
	memset(res, 0, sizeof(*res));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int rc;
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		alarm(KT_CHILD_TIMEOUT);
		rc = fn(arg);
		fflush(stdout);
		_exit(rc & 0xff);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (WIFEXITED(st)) {
		res->exited = 1;
		res->code = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		res->signaled = 1;
		res->sig = WTERMSIG(st);
	}
	return 0;
}

KT_FN const char *kt_childstr(const struct kt_child *c)
{
	static char buf[64];
	if (c->signaled)
		snprintf(buf, sizeof(buf), "killed by signal %d (%s)", c->sig,
			 c->sig == SIGBUS ? "SIGBUS" : c->sig == SIGSEGV ? "SIGSEGV" :
			 c->sig == SIGALRM ? "SIGALRM timeout" : "other");
	else
		snprintf(buf, sizeof(buf), "exit %d", c->code);
	return buf;
}

/*
 * Encode a syscall result as a child exit code and back:
 * rc >= 0 -> rc (0..63), rc < 0 -> 64 + errno. Decode returns 0 and sets rc and err,
 * or -1 if the child did not exit normally or used another code.
 */
KT_FN int kt_enc(long rc, int err)
{
	if (rc >= 0)
		return rc > 63 ? 63 : (int)rc;
	return 64 + (err > 190 ? 190 : err);
}

KT_FN int kt_dec(const struct kt_child *c, long *rc, int *err)
{
	if (!c->exited || c->code > 254)
		return -1;
	if (c->code >= 64) {
		*rc = -1;
		*err = c->code - 64;
	} else {
		*rc = c->code;
		*err = 0;
	}
	return 0;
}

/* ---- statx DAX probe ---- */
KT_FN int kt_statx(const char *path, struct kt_statx *stx)
{
	memset(stx, 0, sizeof(*stx));
	if (syscall(SYS_statx, AT_FDCWD, path, 0, KT_STATX_BASIC_STATS, stx) < 0)
		return -errno;
	return 0;
}

/* 1 = STATX_ATTR_DAX set, 0 = not set, -errno = statx failed (-ENOSYS: pre-4.11) */
KT_FN int kt_statx_dax(const char *path)
{
	struct kt_statx stx;
	int rc = kt_statx(path, &stx);
	if (rc < 0)
		return rc;
	return (stx.stx_attributes & KT_STATX_ATTR_DAX) ? 1 : 0;
}

/*
 * DAX state of an open file, per facts §5/§13.
 * Returns 1 (DAX), 0 (not DAX) or -errno (unknown). *how says how it was decided.
 * statx STATX_ATTR_DAX is authoritative when the kernel reports the attribute
 * (stx_attributes_mask has it: 5.8+). Older kernels: a MAP_SHARED_VALIDATE|MAP_SYNC
 * mapping succeeding means DAX (4.15+).
 */
KT_FN int kt_dax_probe(const char *path, int fd, const char **how)
{
	struct kt_statx stx;
	void *p;
	int rc = kt_statx(path, &stx);
	if (rc == 0 && (stx.stx_attributes_mask & KT_STATX_ATTR_DAX)) {
		*how = (stx.stx_attributes & KT_STATX_ATTR_DAX) ? "statx STATX_ATTR_DAX=1" :
								   "statx STATX_ATTR_DAX=0";
		return (stx.stx_attributes & KT_STATX_ATTR_DAX) ? 1 : 0;
	}
	if (fd >= 0) {
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
		if (p != MAP_FAILED) {
			munmap(p, 4096);
			*how = "statx has no DAX attribute; MAP_SYNC mapping works";
			return 1;
		}
		if (errno == EOPNOTSUPP) {
			*how = "statx has no DAX attribute; MAP_SYNC refused";
			return 0;
		}
	}
	*how = rc < 0 ? "statx failed" : "statx has no DAX attribute";
	return rc < 0 ? rc : -EOPNOTSUPP;
}

/* ---- small file helpers ---- */

/* Create path with len bytes of written data (no holes). Returns fd (O_RDWR) or -errno. */
KT_FN int kt_make_file(const char *path, size_t len, int fill)
{
	char buf[65536];
	size_t off = 0;
	int fd, e;
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	memset(buf, fill, sizeof(buf));
	while (off < len) {
		size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
		ssize_t w = pwrite(fd, buf, n, (off_t)off);
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			close(fd);
			unlink(path);
			return -e;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(path);
		return -e;
	}
	return fd;
}

/* path = dir + "/" + base + "." + pid, into buf */
KT_FN const char *kt_path(char *buf, size_t sz, const char *dir, const char *base)
{
	snprintf(buf, sz, "%s/%s.%d", dir, base, (int)getpid());
	return buf;
}

/* read a small sysfs/proc file as a number (base 0); -1 on error */
KT_FN long kt_read_num(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 0);
}

/* alignment of a device-dax node from /sys/bus/dax/devices/<name>/align; fallback 2 MiB */
KT_FN long kt_devdax_align(const char *dev)
{
	char sys[256];
	const char *base = strrchr(dev, '/');
	long align;
	base = base ? base + 1 : dev;
	snprintf(sys, sizeof(sys), "/sys/bus/dax/devices/%s/align", base);
	align = kt_read_num(sys);
	if (align <= 0) {
		kt_diag("cannot read %s, assuming 2 MiB", sys);
		align = 2L << 20;
	}
	return align;
}

/* write a string to a (proc/sys) file; 0 or -errno */
KT_FN int kt_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	return n < 0 ? -e : 0;
}

/* drop to an unprivileged uid/gid (in a child!). 0 or -errno */
KT_FN int kt_drop_priv(long uid)
{
	if (uid < 0)
		uid = 65534;
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return -errno;
	if (setgid((gid_t)uid) < 0)
		return -errno;
	if (setuid((uid_t)uid) < 0)
		return -errno;
	return 0;
}


/*
 * Gate for the cases of an unmerged interface (mmap3, daxctl): a non-empty kt_gate_skip makes every
 * dependent case SKIP with that reason (interface undeclared or not in this kernel); a non-empty
 * kt_gate_fail makes it FAIL (the probe itself misbehaved). Returns 1 when the case was reported.
 */
static char kt_gate_skip[1024] __attribute__((unused));
static char kt_gate_fail[1024] __attribute__((unused));

static inline int kt_gated(const char *name)
{
	if (kt_gate_skip[0]) {
		kt_skip(name, "%s", kt_gate_skip);
		return 1;
	}
	if (kt_gate_fail[0]) {
		kt_fail(name, "%s", kt_gate_fail);
		return 1;
	}
	return 0;
}

#endif /* DAXRIG_KTAP_H */
