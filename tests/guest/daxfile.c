/*
 * daxfile.c - daxfile / daxctl() RFC (Dan Williams, Jun 2017; never merged), kernel-facts §11.2, §12.
 *
 * daxctl(const char *path, int flags, int align); number from DAXRIG_NR_DAXCTL only (never 333).
 * DAXCTL_F_GET = 1, DAXCTL_F_DAX = 2 (invalid), DAXCTL_F_STATIC = 4.
 * The DAX file lives on $DAXRIG_EXT4 (fallback $DAXRIG_XFS). Unprivileged cases run in a child
 * after setuid($DAXRIG_UNPRIV_UID, default 65534); the files are mode 0666 because daxctl opens
 * the path O_RDWR even for F_GET.
 *
 * On a stock kernel every case SKIPs ("daxctl not declared by the variant" or
 * "daxctl not in this kernel (ENOSYS)").
 *
 *   dc_probe        daxctl("/nonexistent", F_GET, 0)              -> ENOENT (ENOSYS => SKIP all)
 *   dc_badflags     flags DAXCTL_F_DAX and 1<<5                  -> EINVAL both (checked before the path)
 *   dc_get_unpriv   unprivileged F_GET on a DAX file              -> 0
 *   dc_nocap        unprivileged F_STATIC                         -> EPERM
 *   dc_nondax       F_STATIC on ext4 dax=never and on tmpfs       -> EINVAL
 *   dc_nonreg       F_STATIC on /dev/null and $DAXRIG_PMEM        -> EINVAL
 *   dc_hole         F_STATIC on a sparse DAX file                 -> EINVAL (daxfile_activate)
 *   dc_static_ok    F_STATIC on a written file, align 0           -> 0, then F_GET -> 4
 *   dc_idempotent   F_STATIC again                                -> 0 (not EBUSY)
 *   dc_truncate     ftruncate, fallocate, pwrite past EOF         -> ETXTBSY each
 *   dc_mmap_write   MAP_SHARED PROT_WRITE mmap + store + msync    -> OK; a naive port (S_SWAPFILE left
 *                   untouchable) gives ETXTBSY at mmap or SIGBUS at the store: FAIL, explained
 *   dc_swapon_busy  swapon a fresh file, then F_STATIC            -> EBUSY (SKIP if swapon impossible)
 *   dc_clear        flags 0, then F_GET                           -> 0 and 0; ftruncate works again
 */
#include "ktap.h"
#include <sys/swap.h>

#define PG 4096UL
#define FLEN (2UL << 20)
#define DAXCTL_F_GET 1
#define DAXCTL_F_DAX 2
#define DAXCTL_F_STATIC 4
#ifndef SYS_swapon
#define SYS_swapon 167
#endif
#ifndef SYS_swapoff
#define SYS_swapoff 168
#endif

static long nr = -1, uid = 65534;
static const char *daxdir;
static char dpath[512]; /* the main DAX file */
static int dfd = -1;
static int static_ok; /* dc_static_ok succeeded */

static long daxctl(const char *path, int flags, int align)
{
	return syscall(nr, path, flags, align);
}

static int need_dax(const char *name)
{
	if (kt_gated(name))
		return 1;
	if (dfd < 0) {
		kt_skip(name, "%s", dpath); /* dpath holds the reason when no DAX file exists */
		return 1;
	}
	return 0;
}

/* ---- unprivileged calls ---- */
static int uflags;
static const char *upath;
static int unpriv_child(void *unused)
{
	long r;
	(void)unused;
	if (kt_drop_priv(uid) < 0) {
		kt_diag("cannot drop to uid %ld: %s", uid, kt_errname(errno));
		return 255;
	}
	errno = 0;
	r = daxctl(upath, uflags, 0);
	return kt_enc(r, errno);
}

static void unpriv_case(const char *name, int flags, long want_rc, int want_err)
{
	struct kt_child c;
	long rc;
	int err;
	uflags = flags;
	upath = dpath;
	if (kt_run_child(unpriv_child, NULL, &c) < 0) {
		kt_fail(name, "fork: %s", kt_errname(errno));
		return;
	}
	if (c.exited && c.code == 255) {
		kt_fail(name, "setup: could not drop privileges");
		return;
	}
	if (kt_dec(&c, &rc, &err) < 0) {
		kt_fail(name, "child %s", kt_childstr(&c));
		return;
	}
	kt_diag("%s: uid %ld daxctl(flags %d) = %s, want %s", name, uid, flags, kt_rcstr(rc, err),
		want_err ? kt_wantstr(want_err) : "0");
	if ((want_err && rc == -1 && err == want_err) || (!want_err && rc == want_rc))
		kt_ok(name);
	else
		kt_fail(name, "unexpected result");
}

/* ---- root call on a list of paths, each must give want_err ---- */
static void einval_on(const char *name, const char **paths, int n, const char *none)
{
	int i, tested = 0, bad = 0;
	long r;
	for (i = 0; i < n; i++) {
		if (!paths[i])
			continue;
		errno = 0;
		r = daxctl(paths[i], DAXCTL_F_STATIC, 0);
		kt_diag("%s: daxctl(%s, F_STATIC) = %s, want EINVAL", name, paths[i], kt_rcstr(r, errno));
		if (!(r == -1 && errno == EINVAL)) {
			bad++;
			if (r >= 0) /* undo an unexpected success */
				daxctl(paths[i], 0, 0);
		}
		tested++;
	}
	if (!tested)
		kt_skip(name, "%s", none);
	else if (bad)
		kt_fail(name, "unexpected result");
	else
		kt_ok(name);
}

/* ---- dc_mmap_write child ---- */
static int mmap_child(void *unused)
{
	volatile unsigned char *m;
	unsigned char b;
	(void)unused;
	m = mmap(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (m == MAP_FAILED)
		return kt_enc(-1, errno);
	m[0] = 0xd7;
	m[FLEN - 1] = 0x7d;
	if (msync((void *)m, FLEN, MS_SYNC) < 0) {
		kt_diag("dc_mmap_write: msync: %s", kt_errname(errno));
		return 254;
	}
	if (pread(dfd, &b, 1, 0) != 1 || b != 0xd7) {
		kt_diag("dc_mmap_write: pread does not see the stored byte");
		return 253;
	}
	munmap((void *)m, FLEN);
	return 0;
}

/* ---- swap header for dc_swapon_busy ---- */
static int make_swapfile(const char *path)
{
	unsigned char hdr[PG];
	uint32_t *u;
	int fd = kt_make_file(path, FLEN, 0);
	if (fd < 0)
		return fd;
	memset(hdr, 0, sizeof(hdr));
	u = (uint32_t *)(hdr + 1024);
	u[0] = 1;                        /* version */
	u[1] = (uint32_t)(FLEN / PG - 1); /* last_page */
	u[2] = 0;                        /* nr_badpages */
	memcpy(hdr + PG - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, hdr, PG, 0) != (ssize_t)PG || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	fchmod(fd, 0600);
	return fd;
}

int main(void)
{
	const char *how;
	long r;
	int e;

	kt_plan(13);
	nr = kt_env_num("DAXRIG_NR_DAXCTL");
	if (kt_env_num("DAXRIG_UNPRIV_UID") >= 0)
		uid = kt_env_num("DAXRIG_UNPRIV_UID");
	if (nr < 0)
		snprintf(kt_gate_skip, sizeof(kt_gate_skip), "daxctl not declared by the variant (DAXRIG_NR_DAXCTL unset)");
	else if (nr == 333 || nr == 385)
		snprintf(kt_gate_skip, sizeof(kt_gate_skip), "daxctl number %ld refused: it is io_pgetevents on kernels >= 4.18", nr);

	/* dc_probe */
	if (!kt_gated("dc_probe")) {
		errno = 0;
		r = daxctl("/nonexistent", DAXCTL_F_GET, 0);
		e = errno;
		if (r == -1 && e == ENOSYS) {
			snprintf(kt_gate_skip, sizeof(kt_gate_skip), "daxctl not in this kernel (ENOSYS from syscall %ld)", nr);
			kt_skip("dc_probe", "%s", kt_gate_skip);
		} else {
			kt_diag("dc_probe: daxctl(\"/nonexistent\", F_GET, 0) = %s, want ENOENT", kt_rcstr(r, e));
			if (r == -1 && e == ENOENT) {
				kt_ok("dc_probe");
			} else {
				snprintf(kt_gate_fail, sizeof(kt_gate_fail),
					 "syscall %ld does not behave like daxctl (probe gave %s)", nr, kt_rcstr(r, e));
				kt_fail("dc_probe", "%s", kt_gate_fail);
			}
		}
	}

	/* dc_badflags: invalid flags are refused before the path is looked at */
	if (!kt_gated("dc_badflags")) {
		long r1, r2;
		int e1, e2;
		errno = 0;
		r1 = daxctl("/nonexistent", DAXCTL_F_DAX, 0);
		e1 = errno;
		errno = 0;
		r2 = daxctl("/nonexistent", 1 << 5, 0);
		e2 = errno;
		kt_diag("dc_badflags: F_DAX -> %s, 1<<5 -> %s, want EINVAL both", kt_rcstr(r1, e1), kt_rcstr(r2, e2));
		if (r1 == -1 && e1 == EINVAL && r2 == -1 && e2 == EINVAL)
			kt_ok("dc_badflags");
		else
			kt_fail("dc_badflags", "unexpected result");
	}

	/* the DAX file */
	daxdir = kt_env("DAXRIG_EXT4");
	if (!daxdir)
		daxdir = kt_env("DAXRIG_XFS");
	if (!kt_gate_skip[0] && !kt_gate_fail[0]) {
		if (!daxdir) {
			snprintf(dpath, sizeof(dpath), "no DAX filesystem in this machine (DAXRIG_EXT4, DAXRIG_XFS unset)");
		} else {
			char p[512];
			kt_path(p, sizeof(p), daxdir, "daxrig_daxfile");
			dfd = kt_make_file(p, FLEN, 0);
			if (dfd < 0) {
				snprintf(kt_gate_fail, sizeof(kt_gate_fail), "setup: create %s: %s", p, kt_errname(-dfd));
				dfd = -1;
			} else if (kt_dax_probe(p, dfd, &how) != 1) {
				snprintf(dpath, sizeof(dpath), "DAX not active (%s)", how);
				close(dfd);
				unlink(p);
				dfd = -1;
			} else {
				fchmod(dfd, 0666);
				memcpy(dpath, p, sizeof(dpath));
				kt_diag("daxfile: %s (%s)", dpath, how);
			}
		}
	}

	/* dc_get_unpriv / dc_nocap */
	if (!need_dax("dc_get_unpriv"))
		unpriv_case("dc_get_unpriv", DAXCTL_F_GET, 0, 0);
	if (!need_dax("dc_nocap"))
		unpriv_case("dc_nocap", DAXCTL_F_STATIC, 0, EPERM);

	/* dc_nondax */
	if (!kt_gated("dc_nondax")) {
		const char *dirs[2] = { kt_env("DAXRIG_NODAX"), kt_env("DAXRIG_TMPFS") };
		char paths[2][512];
		const char *pp[2] = { NULL, NULL };
		int fds[2] = { -1, -1 }, i;
		for (i = 0; i < 2; i++) {
			if (!dirs[i])
				continue;
			kt_path(paths[i], sizeof(paths[i]), dirs[i], "daxrig_daxfile_nondax");
			fds[i] = kt_make_file(paths[i], FLEN, 0);
			if (fds[i] >= 0)
				pp[i] = paths[i];
			else
				kt_diag("dc_nondax: create %s: %s", paths[i], kt_errname(-fds[i]));
		}
		einval_on("dc_nondax", pp, 2, "no non-DAX filesystem in this machine (DAXRIG_NODAX, DAXRIG_TMPFS unset)");
		for (i = 0; i < 2; i++)
			if (fds[i] >= 0) {
				close(fds[i]);
				unlink(paths[i]);
			}
	}

	/* dc_nonreg */
	if (!kt_gated("dc_nonreg")) {
		const char *pp[2] = { "/dev/null", kt_env("DAXRIG_PMEM") };
		einval_on("dc_nonreg", pp, 2, "no device node");
	}

	/* dc_hole: a sparse file on the DAX fs */
	if (!need_dax("dc_hole")) {
		char hp[512];
		int hfd;
		kt_path(hp, sizeof(hp), daxdir, "daxrig_daxfile_hole");
		unlink(hp);
		hfd = open(hp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (hfd < 0 || ftruncate(hfd, (off_t)FLEN) < 0) {
			kt_fail("dc_hole", "setup: sparse file %s: %s", hp, kt_errname(errno));
		} else {
			errno = 0;
			r = daxctl(hp, DAXCTL_F_STATIC, 0);
			e = errno;
			kt_diag("dc_hole: daxctl(sparse file, F_STATIC) = %s, want EINVAL", kt_rcstr(r, e));
			if (r == -1 && e == EINVAL)
				kt_ok("dc_hole");
			else
				kt_fail("dc_hole", "a file with holes must not become a daxfile");
			if (r >= 0)
				daxctl(hp, 0, 0);
		}
		if (hfd >= 0)
			close(hfd);
		unlink(hp);
	}

	/* dc_static_ok */
	if (!need_dax("dc_static_ok")) {
		long g;
		int ge;
		errno = 0;
		r = daxctl(dpath, DAXCTL_F_STATIC, 0);
		e = errno;
		errno = 0;
		g = daxctl(dpath, DAXCTL_F_GET, 0);
		ge = errno;
		kt_diag("dc_static_ok: F_STATIC = %s (want 0), then F_GET = %s (want 4)", kt_rcstr(r, e), kt_rcstr(g, ge));
		if (r == 0 && g == DAXCTL_F_STATIC) {
			static_ok = 1;
			kt_ok("dc_static_ok");
		} else {
			static_ok = r == 0;
			kt_fail("dc_static_ok", "unexpected result");
		}
	}

	/* dc_idempotent */
	if (!need_dax("dc_idempotent")) {
		if (!static_ok) {
			kt_skip("dc_idempotent", "precondition: dc_static_ok did not make a daxfile");
		} else {
			errno = 0;
			r = daxctl(dpath, DAXCTL_F_STATIC, 0);
			e = errno;
			kt_diag("dc_idempotent: F_STATIC on a daxfile = %s, want 0", kt_rcstr(r, e));
			if (r == 0)
				kt_ok("dc_idempotent");
			else
				kt_fail("dc_idempotent", "%s", e == EBUSY ? "EBUSY: enabling twice must return 0"
									  : "unexpected result");
		}
	}

	/* dc_truncate */
	if (!need_dax("dc_truncate")) {
		if (!static_ok) {
			kt_skip("dc_truncate", "precondition: dc_static_ok did not make a daxfile");
		} else {
			static char buf[PG];
			long r1, r2, r3;
			int e1, e2, e3;
			errno = 0;
			r1 = ftruncate(dfd, (off_t)(FLEN / 2));
			e1 = errno;
			errno = 0;
			r2 = fallocate(dfd, 0, (off_t)FLEN, 65536);
			e2 = errno;
			errno = 0;
			r3 = pwrite(dfd, buf, PG, (off_t)FLEN * 2);
			e3 = errno;
			kt_diag("dc_truncate: ftruncate %s, fallocate %s, pwrite past EOF %s; want ETXTBSY each",
				kt_rcstr(r1, e1), kt_rcstr(r2, e2), kt_rcstr(r3, e3));
			if (r1 == -1 && e1 == ETXTBSY && r2 == -1 && e2 == ETXTBSY && r3 == -1 && e3 == ETXTBSY)
				kt_ok("dc_truncate");
			else
				kt_fail("dc_truncate", "the daxfile block map is not static");
		}
	}

	/* dc_mmap_write */
	if (!need_dax("dc_mmap_write")) {
		struct kt_child c;
		long rc;
		int err;
		if (!static_ok) {
			kt_skip("dc_mmap_write", "precondition: dc_static_ok did not make a daxfile");
		} else if (kt_run_child(mmap_child, NULL, &c) < 0) {
			kt_fail("dc_mmap_write", "fork: %s", kt_errname(errno));
		} else if (c.exited && c.code == 0) {
			kt_ok("dc_mmap_write");
		} else if (c.signaled && c.sig == SIGBUS) {
			kt_fail("dc_mmap_write", "SIGBUS on the first store: naive port - do_page_mkwrite refuses "
						 "S_SWAPFILE inodes (mm/memory.c), so a daxfile is not writable through mmap");
		} else if (c.exited && c.code < 253 && kt_dec(&c, &rc, &err) == 0) {
			if (rc == -1 && err == ETXTBSY)
				kt_fail("dc_mmap_write", "mmap(MAP_SHARED, PROT_WRITE) ETXTBSY: naive port - mmap refuses "
							 "writable shared maps of S_SWAPFILE inodes (mm/mmap.c)");
			else
				kt_fail("dc_mmap_write", "mmap(MAP_SHARED, PROT_WRITE): %s, want success", kt_rcstr(rc, err));
		} else {
			kt_fail("dc_mmap_write", "store/msync/readback through the mapping: child %s", kt_childstr(&c));
		}
	}

	/* dc_swapon_busy: a fresh file, made a swapfile, then F_STATIC */
	if (!need_dax("dc_swapon_busy")) {
		char sp[512];
		int sfd;
		kt_path(sp, sizeof(sp), daxdir, "daxrig_daxfile_swap");
		sfd = make_swapfile(sp);
		if (sfd < 0) {
			kt_fail("dc_swapon_busy", "setup: create %s: %s", sp, kt_errname(-sfd));
		} else if (syscall(SYS_swapon, sp, 0) < 0) {
			kt_skip("dc_swapon_busy", "swapon %s: %s (no swap support or no swap on this DAX fs)", sp,
				kt_errname(errno));
		} else {
			errno = 0;
			r = daxctl(sp, DAXCTL_F_STATIC, 0);
			e = errno;
			kt_diag("dc_swapon_busy: F_STATIC on an active swapfile = %s, want EBUSY", kt_rcstr(r, e));
			if (r == -1 && e == EBUSY)
				kt_ok("dc_swapon_busy");
			else
				kt_fail("dc_swapon_busy", "unexpected result");
			if (syscall(SYS_swapoff, sp) < 0)
				kt_diag("swapoff %s: %s", sp, kt_errname(errno));
		}
		if (sfd >= 0)
			close(sfd);
		unlink(sp);
	}

	/* dc_clear */
	if (!need_dax("dc_clear")) {
		long g, t;
		int ge, te;
		if (!static_ok) {
			kt_skip("dc_clear", "precondition: dc_static_ok did not make a daxfile");
		} else {
			errno = 0;
			r = daxctl(dpath, 0, 0);
			e = errno;
			errno = 0;
			g = daxctl(dpath, DAXCTL_F_GET, 0);
			ge = errno;
			errno = 0;
			t = ftruncate(dfd, (off_t)(FLEN / 2));
			te = errno;
			kt_diag("dc_clear: flags 0 = %s, F_GET = %s, ftruncate = %s; want 0, 0, 0", kt_rcstr(r, e),
				kt_rcstr(g, ge), kt_rcstr(t, te));
			if (r == 0 && g == 0 && t == 0)
				kt_ok("dc_clear");
			else
				kt_fail("dc_clear", "the daxfile state was not cleared");
		}
	}

	if (dfd >= 0) {
		if (static_ok)
			daxctl(dpath, 0, 0);
		close(dfd);
		unlink(dpath);
	}
	return kt_exit();
}
