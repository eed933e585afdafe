/*
 * map_direct.c - MAP_DIRECT v5 (Dan Williams, Aug 2017; never merged), docs/kernel-behaviour.md §6, §8.
 *
 * Numbers come from the variant only (never hard-coded, never 333):
 *   DAXRIG_NR_MMAP3            mmap3 / sys_mmap_pgoff_strict(addr, len, prot, flags, fd, pgoff)
 *                              (argument order assumed identical to mmap_pgoff; every case uses pgoff 0)
 *   DAXRIG_MMAP_MAP_DIRECT     the MAP_DIRECT flag value
 *   DAXRIG_FCNTL_F_MAP_DIRECT  the F_MAP_DIRECT fcntl command
 * Optional: DAXRIG_XFS_REFLINK (an xfs-dax made with reflink=1, for md_seal_reflink, md_dedupe and
 * md_reflink_sigbus), DAXRIG_XFS_NODAX (an xfs mounted without dax, for md_nondax),
 * DAXRIG_UNPRIV_UID (65534).
 *
 * On a stock kernel every case SKIPs ("... not declared by the variant" / "mmap3 not in this
 * kernel (ENOSYS)"), except md_legacy_mmap_bit, which only needs DAXRIG_MMAP_MAP_DIRECT: it FAILS
 * whenever the declared value aliases MAP_SYNC (0x80000, the value as posted) or another mmap bit.
 *
 *   md_probe              mmap3 is a working mmap (anon map OK); mmap3(MAP_SHARED|MAP_DIRECT, fd -1)
 *                         -> EBADF or EOPNOTSUPP; F_MAP_DIRECT as root -> 0 (diag). EOPNOTSUPP means
 *                         mmap3 does not know MAP_DIRECT: every case that needs a MAP_DIRECT mapping
 *                         then SKIPs (md_other_fs, md_mmap3_unknown_bit and md_legacy_mmap_bit still run)
 *   md_ok                 xfs-dax, written file, mmap3(RW, MAP_SHARED|MAP_DIRECT), store, pread sees it
 *   md_noprot_write       PROT_READ only                                    -> EACCES
 *   md_private            MAP_PRIVATE|MAP_DIRECT                            -> EINVAL
 *   md_anon               MAP_ANONYMOUS|MAP_SHARED|MAP_DIRECT               -> EINVAL
 *   md_nocap              setuid(DAXRIG_UNPRIV_UID), then mmap3             -> EACCES
 *   md_fcntl_grant        root sets F_MAP_DIRECT on an fd, unprivileged child mmap3s it -> OK;
 *                         the child's own fcntl(F_MAP_DIRECT)              -> EACCES
 *   md_seal_truncate      while mapped: ftruncate                           -> ETXTBSY; after munmap OK
 *   md_seal_fallocate     fallocate(0) past EOF                             -> ETXTBSY; after munmap OK
 *   md_seal_extend_write  pwrite past EOF                                   -> ETXTBSY; after munmap OK
 *   md_seal_punch         fallocate(PUNCH_HOLE|KEEP_SIZE)                   -> ETXTBSY; after munmap OK
 *   md_seal_reflink       FICLONE into the file (on DAXRIG_XFS_REFLINK)     -> ETXTBSY; after munmap OK
 *   md_hole_sigbus        mmap3 over a sparse file, store                   -> SIGBUS
 *   md_mmap3_unknown_bit  mmap3 with an unknown flag bit: anonymous, fd -1, xfs file -> EOPNOTSUPP each
 *                         (the flag check comes before the fd lookup: never EBADF)
 *   md_seal_second_map    two MAP_DIRECT mappings; unmapping one keeps the seal, the last drops it
 *   md_seal_partial_munmap  unmapping half of the mapping keeps the seal; the rest drops it
 *   md_seal_fork          a forked child's copy keeps the seal after the parent unmaps; its exit drops it
 *   md_seal_mremap        the moved mapping keeps the seal; its munmap drops it
 *   md_seal_exit          a process that exits with the mapping in place drops the seal
 *                         (the seal is checked with ftruncate to the current size: ETXTBSY while sealed)
 *   md_falloc_sigbus      fallocated-only file (unwritten extents), first store -> SIGBUS
 *   md_hole_write         written first half, hole after: pwrite into the hole -> ETXTBSY, pwrite in
 *                         place OK; after munmap the hole write succeeds
 *   md_swapext            XFS_IOC_SWAPEXT with the target sealed -> EINVAL; after munmap not EINVAL
 *   md_dedupe             FIDEDUPERANGE into a sealed file -> status ETXTBSY; after munmap deduped
 *                         (on DAXRIG_XFS_REFLINK: xfs dedupe needs reflink)
 *   md_reflink_sigbus     a reflinked file maps, its first store -> SIGBUS (on DAXRIG_XFS_REFLINK)
 *   md_fcntl_prot_read    unprivileged holder of a granted fd: PROT_READ -> EACCES, PROT_WRITE OK
 *   md_plain_mmap_noseal  mmap(MAP_SHARED|MAP_DIRECT) maps but does not seal;
 *                         mmap(MAP_SHARED_VALIDATE|MAP_DIRECT) seals until munmap
 *   md_nondax             xfs without dax: mmap3 OK, first touch            -> SIGBUS
 *   md_other_fs           mmap3 MAP_DIRECT on ext4-dax and tmpfs            -> EOPNOTSUPP
 *   md_legacy_mmap_bit    the declared MAP_DIRECT must not alias MAP_SYNC or any mmap(2) bit
 */
#include "ktap.h"
#include <sys/ioctl.h>

#define PG 4096UL
#define FLEN (2UL << 20)
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 1
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 2
#endif
#define DR_FICLONE _IOW(0x94, 9, int)

static long nr = -1, md = -1, fmd = -1, uid = 65534;
static const char *xfs, *xfs_reflink;

/*
 * Second gate: mmap3 works but refuses MAP_DIRECT itself (EOPNOTSUPP before the fd is looked at, which
 * is how a validating mmap3 says "no such flag"): every case that needs a MAP_DIRECT mapping SKIPs.
 */
static char md_gate_skip[256];

static int md_gated(const char *name)
{
	if (kt_gated(name))
		return 1;
	if (md_gate_skip[0]) {
		kt_skip(name, "%s", md_gate_skip);
		return 1;
	}
	return 0;
}

static long mmap3(void *addr, size_t len, int prot, long flags, int fd, unsigned long pgoff)
{
	return syscall(nr, addr, len, prot, flags, fd, pgoff);
}

/* ---- files ---- */
static int nfile;

enum { F_WRITTEN, F_SPARSE, F_FALLOC, F_HALF };

/*
 * create a FLEN file on dir, mode 0666: F_WRITTEN data everywhere, F_SPARSE ftruncate only,
 * F_FALLOC fallocated only (unwritten extents), F_HALF data in the first half, a hole after.
 * Returns fd or -errno.
 */
static int mkfile(const char *dir, char *path, size_t psz, int sparse)
{
	int fd;
	char base[64];
	snprintf(base, sizeof(base), "daxrig_md%d", nfile++);
	kt_path(path, psz, dir, base);
	if (sparse == F_HALF) {
		fd = kt_make_file(path, FLEN / 2, 0x11);
		if (fd < 0)
			return fd;
		if (ftruncate(fd, (off_t)FLEN) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
	} else if (sparse == F_FALLOC) {
		unlink(path);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0)
			return -errno;
		if (fallocate(fd, 0, 0, (off_t)FLEN) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
	} else if (sparse) {
		unlink(path);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)FLEN) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
	} else {
		fd = kt_make_file(path, FLEN, 0x11);
		if (fd < 0)
			return fd;
	}
	fchmod(fd, 0666);
	return fd;
}

/*
 * An xfs-dax file for a case, on dir (env names the variable for the skip reason).
 * Returns fd, or -1 after reporting the case as SKIP/FAIL.
 */
static int dax_file_on(const char *name, const char *dir, const char *env, char *path, size_t psz, int sparse)
{
	const char *how;
	int fd, dax;
	if (!dir) {
		kt_skip(name, "no %s mount in this machine (%s unset)",
			strcmp(env, "DAXRIG_XFS") ? "reflink xfs-dax" : "xfs-dax", env);
		return -1;
	}
	fd = mkfile(dir, path, psz, sparse);
	if (fd < 0) {
		kt_fail(name, "setup: create %s: %s", path, kt_errname(-fd));
		return -1;
	}
	dax = kt_dax_probe(path, fd, &how);
	if (dax != 1) {
		kt_skip(name, "DAX not active (%s)", how);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static int xfs_file(const char *name, char *path, size_t psz, int sparse)
{
	return dax_file_on(name, xfs, "DAXRIG_XFS", path, psz, sparse);
}

/* ---- md_probe ---- */
static void md_probe(void)
{
	long r;
	int e;
	char path[512];

	if (kt_gated("md_probe"))
		return;
	errno = 0;
	r = mmap3(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	e = errno;
	if (r == -1 && e == ENOSYS) {
		snprintf(kt_gate_skip, sizeof(kt_gate_skip), "mmap3 not in this kernel (ENOSYS from syscall %ld)", nr);
		kt_skip("md_probe", "%s", kt_gate_skip);
		return;
	}
	if (r == -1 || (r & (long)(PG - 1)) || msync((void *)r, PG, MS_ASYNC) < 0) {
		snprintf(kt_gate_fail, sizeof(kt_gate_fail),
			 "syscall %ld does not behave like mmap3 (anonymous map returned %s)", nr, kt_rcstr(r, e));
		kt_fail("md_probe", "%s", kt_gate_fail);
		return;
	}
	munmap((void *)r, PG);
	errno = 0;
	r = mmap3(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | md, -1, 0);
	e = errno;
	kt_diag("md_probe: mmap3(MAP_SHARED|MAP_DIRECT, fd -1) = %s", kt_rcstr(r, e));
	if (fmd >= 0 && xfs) {
		int fd = mkfile(xfs, path, sizeof(path), 0);
		if (fd >= 0) {
			errno = 0;
			long f = fcntl(fd, (int)fmd);
			kt_diag("md_probe: fcntl(F_MAP_DIRECT=%ld) as root = %s", fmd, kt_rcstr(f, errno));
			close(fd);
			unlink(path);
		}
	}
	if (r == -1 && e == EOPNOTSUPP)
		snprintf(md_gate_skip, sizeof(md_gate_skip),
			 "MAP_DIRECT not in this kernel: mmap3 refuses flag 0x%lx with EOPNOTSUPP", md);
	if (r == -1 && (e == EBADF || e == EOPNOTSUPP)) {
		kt_ok("md_probe");
	} else {
		if (r != -1)
			munmap((void *)r, PG);
		kt_fail("md_probe", "mmap3 with a bad fd must fail with EBADF or EOPNOTSUPP");
	}
}

/* ---- simple mmap3 result cases ---- */
static void simple_case(const char *name, int prot, long flags, int want, int with_file)
{
	char path[512];
	int fd = -1, e;
	long r;
	if (md_gated(name))
		return;
	if (with_file) {
		fd = xfs_file(name, path, sizeof(path), 0);
		if (fd < 0)
			return;
	}
	errno = 0;
	r = mmap3(NULL, FLEN, prot, flags, fd, 0);
	e = errno;
	kt_expect(name, r == -1 ? -1 : 0, e, want);
	if (r != -1)
		munmap((void *)r, FLEN);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

/* ---- md_ok ---- */
static int ok_fd;
static int ok_child(void *unused)
{
	volatile unsigned char *m;
	unsigned char b;
	size_t o;
	long r;
	(void)unused;
	r = mmap3(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED | md, ok_fd, 0);
	if (r == -1)
		return kt_enc(-1, errno);
	m = (volatile unsigned char *)r;
	for (o = 0; o < FLEN; o += PG)
		m[o] = (unsigned char)(0x80 | (o >> 12));
	for (o = 0; o < FLEN; o += PG) {
		if (pread(ok_fd, &b, 1, (off_t)o) != 1 || b != (unsigned char)(0x80 | (o >> 12))) {
			kt_diag("md_ok: pread at %zu does not see the stored byte", o);
			return 255;
		}
	}
	munmap((void *)m, FLEN);
	return 0;
}

static void md_ok(void)
{
	char path[512];
	struct kt_child c;
	long rc;
	int err;
	if (md_gated("md_ok"))
		return;
	ok_fd = xfs_file("md_ok", path, sizeof(path), 0);
	if (ok_fd < 0)
		return;
	if (kt_run_child(ok_child, NULL, &c) < 0)
		kt_fail("md_ok", "fork: %s", kt_errname(errno));
	else if (c.exited && c.code == 0)
		kt_ok("md_ok");
	else if (c.exited && c.code != 255 && kt_dec(&c, &rc, &err) == 0)
		kt_fail("md_ok", "mmap3(RW, MAP_SHARED|MAP_DIRECT): %s", kt_rcstr(rc, err));
	else
		kt_fail("md_ok", "store/readback through the MAP_DIRECT mapping: child %s", kt_childstr(&c));
	close(ok_fd);
	unlink(path);
}

/* ---- md_nocap ---- */
static int nocap_fd;
static int nocap_child(void *unused)
{
	long r;
	(void)unused;
	if (kt_drop_priv(uid) < 0) {
		kt_diag("cannot drop to uid %ld: %s", uid, kt_errname(errno));
		return 255;
	}
	errno = 0;
	r = mmap3(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED | md, nocap_fd, 0);
	return kt_enc(r == -1 ? -1 : 0, errno);
}

static void md_nocap(void)
{
	char path[512];
	struct kt_child c;
	long rc;
	int err;
	if (md_gated("md_nocap"))
		return;
	nocap_fd = xfs_file("md_nocap", path, sizeof(path), 0);
	if (nocap_fd < 0)
		return;
	if (kt_run_child(nocap_child, NULL, &c) < 0)
		kt_fail("md_nocap", "fork: %s", kt_errname(errno));
	else if (c.exited && c.code == 255)
		kt_fail("md_nocap", "setup: could not drop privileges");
	else if (kt_dec(&c, &rc, &err) < 0)
		kt_fail("md_nocap", "child %s", kt_childstr(&c));
	else {
		kt_diag("md_nocap: uid %ld without CAP_LINUX_IMMUTABLE", uid);
		kt_expect("md_nocap", rc, err, EACCES);
	}
	close(nocap_fd);
	unlink(path);
}

/* ---- md_fcntl_grant ---- */
static int grant_fd;
static const char *grant_path;
static int grant_child(void *unused)
{
	long r;
	int fd2, e;
	(void)unused;
	if (kt_drop_priv(uid) < 0) {
		kt_diag("cannot drop to uid %ld: %s", uid, kt_errname(errno));
		return 255;
	}
	errno = 0;
	r = mmap3(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED | md, grant_fd, 0);
	if (r == -1) {
		kt_diag("md_fcntl_grant: unprivileged mmap3 on the granted fd: %s, want success",
			kt_rcstr(-1, errno));
		return 1;
	}
	munmap((void *)r, FLEN);
	fd2 = open(grant_path, O_RDWR | O_CLOEXEC);
	if (fd2 < 0) {
		kt_diag("md_fcntl_grant: child open: %s", kt_errname(errno));
		return 255;
	}
	errno = 0;
	r = fcntl(fd2, (int)fmd);
	e = errno;
	kt_diag("md_fcntl_grant: unprivileged fcntl(F_MAP_DIRECT) = %s, want EACCES", kt_rcstr(r, e));
	close(fd2);
	return (r == -1 && e == EACCES) ? 0 : 2;
}

static void md_fcntl_grant(void)
{
	char path[512];
	struct kt_child c;
	long r;
	int e;
	if (md_gated("md_fcntl_grant"))
		return;
	if (fmd < 0) {
		kt_skip("md_fcntl_grant", "F_MAP_DIRECT not declared by the variant (DAXRIG_FCNTL_F_MAP_DIRECT unset)");
		return;
	}
	grant_fd = xfs_file("md_fcntl_grant", path, sizeof(path), 0);
	if (grant_fd < 0)
		return;
	grant_path = path;
	errno = 0;
	r = fcntl(grant_fd, (int)fmd);
	e = errno;
	if (r == -1 && e == EINVAL) {
		kt_skip("md_fcntl_grant", "F_MAP_DIRECT not in this kernel (fcntl %ld: EINVAL)", fmd);
	} else if (r == -1) {
		kt_fail("md_fcntl_grant", "root fcntl(F_MAP_DIRECT): %s, want success", kt_rcstr(r, e));
	} else if (kt_run_child(grant_child, NULL, &c) < 0) {
		kt_fail("md_fcntl_grant", "fork: %s", kt_errname(errno));
	} else if (c.exited && c.code == 0) {
		kt_ok("md_fcntl_grant");
	} else {
		kt_fail("md_fcntl_grant", "child %s%s", kt_childstr(&c),
			c.exited && c.code == 255 ? " (setup in the child failed)" : "");
	}
	close(grant_fd);
	unlink(path);
}

/* ---- md_seal_* ---- */
enum sealop { OP_TRUNCATE, OP_FALLOCATE, OP_EXTEND, OP_PUNCH, OP_REFLINK };

static long do_op(enum sealop op, int fd, int srcfd)
{
	static char buf[PG];
	switch (op) {
	case OP_TRUNCATE:
		return ftruncate(fd, (off_t)(FLEN / 2));
	case OP_FALLOCATE:
		return fallocate(fd, 0, (off_t)FLEN * 2, 65536);
	case OP_EXTEND:
		return pwrite(fd, buf, PG, (off_t)FLEN * 3);
	case OP_PUNCH:
		return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 65536);
	case OP_REFLINK:
		return ioctl(fd, DR_FICLONE, srcfd);
	}
	return -1;
}

static void seal_case(const char *name, enum sealop op, const char *desc)
{
	char path[512], spath[512];
	int fd, srcfd = -1, e1, e2;
	long r, r1, r2;
	const char *dir = op == OP_REFLINK ? xfs_reflink : xfs;
	if (md_gated(name))
		return;
	if (op == OP_REFLINK)
		fd = dax_file_on(name, xfs_reflink, "DAXRIG_XFS_REFLINK", path, sizeof(path), 0);
	else
		fd = xfs_file(name, path, sizeof(path), 0);
	if (fd < 0)
		return;
	spath[0] = 0;
	if (op == OP_REFLINK) {
		char tpath[512];
		int tfd;
		srcfd = mkfile(dir, spath, sizeof(spath), 0);
		tfd = mkfile(dir, tpath, sizeof(tpath), 0);
		if (srcfd < 0 || tfd < 0) {
			kt_fail(name, "setup: create reflink source: %s", kt_errname(srcfd < 0 ? -srcfd : -tfd));
			goto out_t;
		}
		/* can this xfs reflink at all? */
		if (ioctl(tfd, DR_FICLONE, srcfd) < 0) {
			kt_fail(name, "setup: FICLONE on %s: %s (want a reflink=1 xfs)", dir, kt_errname(errno));
			close(tfd);
			unlink(tpath);
			goto out;
		}
out_t:
		if (tfd >= 0) {
			close(tfd);
			unlink(tpath);
		}
		if (srcfd < 0 || tfd < 0)
			goto out;
	}
	errno = 0;
	r = mmap3(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED | md, fd, 0);
	if (r == -1) {
		kt_fail(name, "setup: mmap3(RW, MAP_SHARED|MAP_DIRECT): %s", kt_rcstr(-1, errno));
		goto out;
	}
	errno = 0;
	r1 = do_op(op, fd, srcfd);
	e1 = errno;
	munmap((void *)r, FLEN);
	errno = 0;
	r2 = do_op(op, fd, srcfd);
	e2 = errno;
	kt_diag("%s: %s while MAP_DIRECT-mapped: %s (want ETXTBSY); after munmap: %s (want success)", name, desc,
		kt_rcstr(r1, e1), kt_rcstr(r2, e2));
	if (r1 == -1 && e1 == ETXTBSY && r2 >= 0)
		kt_ok(name);
	else
		kt_fail(name, "%s", r1 == -1 && e1 == ETXTBSY ? "the seal was not released by the last munmap"
							     : "the block map was not sealed");
out:
	if (srcfd >= 0)
		close(srcfd);
	if (spath[0])
		unlink(spath);
	close(fd);
	unlink(path);
}

/* ---- SIGBUS cases ---- */
static int sig_fd;
static int sig_child(void *unused)
{
	volatile unsigned char *m;
	long r;
	(void)unused;
	r = mmap3(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED | md, sig_fd, 0);
	if (r == -1)
		return kt_enc(-1, errno);
	m = (volatile unsigned char *)r;
	m[0] = 1;
	m[FLEN / 2] = 1;
	return 0; /* survived */
}

static void sigbus_report(const char *name, const char *what)
{
	struct kt_child c;
	long rc;
	int err;
	if (kt_run_child(sig_child, NULL, &c) < 0)
		kt_fail(name, "fork: %s", kt_errname(errno));
	else if (c.signaled && c.sig == SIGBUS)
		kt_ok(name);
	else if (c.exited && c.code == 0)
		kt_fail(name, "%s: the store succeeded, want SIGBUS", what);
	else if (c.exited && kt_dec(&c, &rc, &err) == 0)
		kt_fail(name, "%s: mmap3 %s, want success then SIGBUS on touch", what, kt_rcstr(rc, err));
	else
		kt_fail(name, "%s: child %s, want SIGBUS", what, kt_childstr(&c));
}

static void md_hole_sigbus(void)
{
	char path[512];
	if (md_gated("md_hole_sigbus"))
		return;
	sig_fd = xfs_file("md_hole_sigbus", path, sizeof(path), 1);
	if (sig_fd < 0)
		return;
	sigbus_report("md_hole_sigbus", "sparse xfs-dax file");
	close(sig_fd);
	unlink(path);
}

static void md_nondax(void)
{
	const char *dir = kt_env("DAXRIG_XFS_NODAX");
	const char *how;
	char path[512];
	if (md_gated("md_nondax"))
		return;
	if (!dir) {
		kt_skip("md_nondax", "no non-DAX xfs mount in this machine (DAXRIG_XFS_NODAX unset)");
		return;
	}
	sig_fd = mkfile(dir, path, sizeof(path), 0);
	if (sig_fd < 0) {
		kt_fail("md_nondax", "setup: create %s: %s", path, kt_errname(-sig_fd));
		return;
	}
	if (kt_dax_probe(path, sig_fd, &how) == 1) {
		kt_skip("md_nondax", "the non-DAX xfs has DAX active (%s)", how);
	} else {
		sigbus_report("md_nondax", "xfs without dax");
	}
	close(sig_fd);
	unlink(path);
}

/* ---- md_other_fs ---- */
static void md_other_fs(void)
{
	static const char *envs[2] = { "DAXRIG_EXT4", "DAXRIG_TMPFS" };
	char path[512];
	int i, tested = 0, bad = 0, fd, e;
	long r;
	if (kt_gated("md_other_fs"))
		return;
	for (i = 0; i < 2; i++) {
		const char *dir = kt_env(envs[i]);
		if (!dir)
			continue;
		fd = mkfile(dir, path, sizeof(path), 0);
		if (fd < 0) {
			kt_diag("md_other_fs: create on %s: %s", envs[i], kt_errname(-fd));
			bad++;
			continue;
		}
		errno = 0;
		r = mmap3(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED | md, fd, 0);
		e = errno;
		kt_diag("md_other_fs: %s: mmap3(MAP_SHARED|MAP_DIRECT) = %s, want EOPNOTSUPP", envs[i],
			kt_rcstr(r == -1 ? -1 : 0, e));
		if (!(r == -1 && e == EOPNOTSUPP))
			bad++;
		if (r != -1)
			munmap((void *)r, FLEN);
		tested++;
		close(fd);
		unlink(path);
	}
	if (!tested && !bad)
		kt_skip("md_other_fs", "no ext4-dax or tmpfs in this machine (DAXRIG_EXT4, DAXRIG_TMPFS unset)");
	else if (bad)
		kt_fail("md_other_fs", "MAP_DIRECT must be refused outside xfs");
	else
		kt_ok("md_other_fs");
}

/* ---- md_mmap3_unknown_bit ---- */
static void md_mmap3_unknown_bit(void)
{
	static const char *what[3] = { "anonymous", "file, fd -1", "xfs file" };
	long flags[3] = { MAP_PRIVATE | MAP_ANONYMOUS, MAP_SHARED, MAP_SHARED };
	char path[512];
	int i, fd = -1, bad = 0, n = 2, e;
	long r;
	if (kt_gated("md_mmap3_unknown_bit"))
		return;
	if (xfs) {
		fd = mkfile(xfs, path, sizeof(path), F_WRITTEN);
		if (fd >= 0)
			n = 3;
	}
	for (i = 0; i < n; i++) {
		errno = 0;
		r = mmap3(NULL, PG, PROT_READ | PROT_WRITE, flags[i] | KT_MAP_UNKNOWN_BIT, i == 2 ? fd : -1, 0);
		e = errno;
		kt_diag("md_mmap3_unknown_bit: %s, flag 0x%x: %s (want EOPNOTSUPP)", what[i], KT_MAP_UNKNOWN_BIT,
			kt_rcstr(r == -1 ? -1 : 0, e));
		if (r != -1)
			munmap((void *)r, PG);
		if (!(r == -1 && e == EOPNOTSUPP))
			bad++;
	}
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	if (bad)
		kt_fail("md_mmap3_unknown_bit", "mmap3 must refuse unknown flags with EOPNOTSUPP, before the fd");
	else
		kt_ok("md_mmap3_unknown_bit");
}

/* ---- seal lifetime ---- */

/* 1 sealed (ftruncate to the current size: ETXTBSY), 0 not sealed, -1 other (errno) */
static int sealed(int fd)
{
	if (ftruncate(fd, (off_t)FLEN) == 0)
		return 0;
	return errno == ETXTBSY ? 1 : -1;
}

static const char *sealstr(int s)
{
	return s == 1 ? "sealed" : s == 0 ? "not sealed" : kt_errname(errno);
}

static void *map_direct(int fd, size_t len)
{
	long r = mmap3(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | md, fd, 0);
	return r == -1 ? MAP_FAILED : (void *)r;
}

static int life_fd = -1;
static char life_path[512];

/* open a file for a lifetime case; -1 after reporting */
static int life_setup(const char *name)
{
	life_fd = xfs_file(name, life_path, sizeof(life_path), F_WRITTEN);
	return life_fd;
}

static void life_done(void)
{
	close(life_fd);
	unlink(life_path);
	life_fd = -1;
}

/* report a lifetime case: want1 while some mapping remains, then not sealed */
static void life_report(const char *name, const char *what, int s0, int s1, int s2)
{
	kt_diag("%s: after the first mapping: %s; %s: %s (want sealed); after the last unmap: %s (want not sealed)",
		name, sealstr(s0), what, sealstr(s1), sealstr(s2));
	if (s0 == 1 && s1 == 1 && s2 == 0)
		kt_ok(name);
	else if (s0 != 1)
		kt_fail(name, "a MAP_DIRECT mapping did not seal the file");
	else if (s1 != 1)
		kt_fail(name, "%s dropped the seal while a MAP_DIRECT mapping remains", what);
	else
		kt_fail(name, "the seal outlived the last MAP_DIRECT mapping");
}

static void md_seal_second_map(void)
{
	void *a, *b;
	int s0, s1, s2;
	if (md_gated("md_seal_second_map") || life_setup("md_seal_second_map") < 0)
		return;
	a = map_direct(life_fd, FLEN);
	if (a == MAP_FAILED) {
		kt_fail("md_seal_second_map", "setup: mmap3(RW, MAP_SHARED|MAP_DIRECT): %s", kt_errname(errno));
		goto out;
	}
	s0 = sealed(life_fd);
	b = map_direct(life_fd, FLEN);
	if (b == MAP_FAILED) {
		kt_fail("md_seal_second_map", "second mmap3(RW, MAP_SHARED|MAP_DIRECT): %s", kt_errname(errno));
		munmap(a, FLEN);
		goto out;
	}
	munmap(a, FLEN);
	s1 = sealed(life_fd);
	munmap(b, FLEN);
	s2 = sealed(life_fd);
	life_report("md_seal_second_map", "unmapping the first of two mappings", s0, s1, s2);
out:
	life_done();
}

static void md_seal_partial_munmap(void)
{
	char *a;
	int s0, s1, s2;
	if (md_gated("md_seal_partial_munmap") || life_setup("md_seal_partial_munmap") < 0)
		return;
	a = map_direct(life_fd, FLEN);
	if (a == MAP_FAILED) {
		kt_fail("md_seal_partial_munmap", "setup: mmap3(RW, MAP_SHARED|MAP_DIRECT): %s", kt_errname(errno));
		goto out;
	}
	a[0] = 1; /* fault it in (a PMD where possible), so the split has something to split */
	s0 = sealed(life_fd);
	munmap(a, FLEN / 2);
	s1 = sealed(life_fd);
	munmap(a + FLEN / 2, FLEN / 2);
	s2 = sealed(life_fd);
	life_report("md_seal_partial_munmap", "unmapping the first half", s0, s1, s2);
out:
	life_done();
}

static int fork_wait_child(void *arg)
{
	int *p = arg;
	char c;
	close(p[1]);
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

static void md_seal_fork(void)
{
	void *a;
	int s0, s1, s2, p[2];
	pid_t pid;
	if (md_gated("md_seal_fork") || life_setup("md_seal_fork") < 0)
		return;
	a = map_direct(life_fd, FLEN);
	if (a == MAP_FAILED) {
		kt_fail("md_seal_fork", "setup: mmap3(RW, MAP_SHARED|MAP_DIRECT): %s", kt_errname(errno));
		goto out;
	}
	s0 = sealed(life_fd);
	if (pipe(p) < 0) {
		kt_fail("md_seal_fork", "setup: pipe: %s", kt_errname(errno));
		munmap(a, FLEN);
		goto out;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		kt_fail("md_seal_fork", "fork: %s", kt_errname(errno));
		munmap(a, FLEN);
		close(p[0]);
		close(p[1]);
		goto out;
	}
	if (pid == 0) {
		alarm(KT_CHILD_TIMEOUT);
		_exit(fork_wait_child(p));
	}
	close(p[0]);
	munmap(a, FLEN);
	s1 = sealed(life_fd);
	close(p[1]); /* the child exits */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	s2 = sealed(life_fd);
	life_report("md_seal_fork", "the parent's munmap while the child lives", s0, s1, s2);
out:
	life_done();
}

static void md_seal_mremap(void)
{
	void *a, *t, *b;
	int s0, s1, s2;
	if (md_gated("md_seal_mremap") || life_setup("md_seal_mremap") < 0)
		return;
	a = map_direct(life_fd, FLEN);
	if (a == MAP_FAILED) {
		kt_fail("md_seal_mremap", "setup: mmap3(RW, MAP_SHARED|MAP_DIRECT): %s", kt_errname(errno));
		goto out;
	}
	s0 = sealed(life_fd);
	/* a target range, so that the mapping must move */
	t = mmap(NULL, FLEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED) {
		kt_fail("md_seal_mremap", "setup: reserve a target range: %s", kt_errname(errno));
		munmap(a, FLEN);
		goto out;
	}
	b = mremap(a, FLEN, FLEN, MREMAP_MAYMOVE | MREMAP_FIXED, t);
	if (b == MAP_FAILED) {
		kt_fail("md_seal_mremap", "mremap(MAYMOVE|FIXED) of the MAP_DIRECT mapping: %s", kt_errname(errno));
		munmap(a, FLEN);
		munmap(t, FLEN);
		goto out;
	}
	s1 = sealed(life_fd);
	munmap(b, FLEN);
	s2 = sealed(life_fd);
	life_report("md_seal_mremap", "moving the mapping with mremap", s0, s1, s2);
out:
	life_done();
}

static int exit_child(void *unused)
{
	void *a;
	(void)unused;
	a = map_direct(life_fd, FLEN);
	if (a == MAP_FAILED)
		return kt_enc(-1, errno);
	return sealed(life_fd) == 1 ? 1 : 2; /* exit with the mapping in place */
}

static void md_seal_exit(void)
{
	struct kt_child c;
	long rc;
	int err, s2;
	if (md_gated("md_seal_exit") || life_setup("md_seal_exit") < 0)
		return;
	if (kt_run_child(exit_child, NULL, &c) < 0) {
		kt_fail("md_seal_exit", "fork: %s", kt_errname(errno));
		goto out;
	}
	s2 = sealed(life_fd);
	if (c.exited && c.code >= 64 && kt_dec(&c, &rc, &err) == 0)
		kt_fail("md_seal_exit", "setup: mmap3(RW, MAP_SHARED|MAP_DIRECT) in the child: %s", kt_rcstr(rc, err));
	else if (!c.exited || (c.code != 1 && c.code != 2))
		kt_fail("md_seal_exit", "child %s", kt_childstr(&c));
	else
		life_report("md_seal_exit", "(in the child, mapping kept)", c.code == 1 ? 1 : 0, c.code == 1 ? 1 : 0, s2);
out:
	life_done();
}

/* ---- md_falloc_sigbus ---- */
static void md_falloc_sigbus(void)
{
	char path[512];
	if (md_gated("md_falloc_sigbus"))
		return;
	sig_fd = xfs_file("md_falloc_sigbus", path, sizeof(path), F_FALLOC);
	if (sig_fd < 0)
		return;
	sigbus_report("md_falloc_sigbus", "fallocated-only xfs-dax file (unwritten extents)");
	close(sig_fd);
	unlink(path);
}

/* ---- md_hole_write ---- */
static void md_hole_write(void)
{
	static char buf[PG];
	char path[512];
	void *a;
	long r1, r2, r3;
	int fd, e1, e2, e3;
	if (md_gated("md_hole_write"))
		return;
	fd = xfs_file("md_hole_write", path, sizeof(path), F_HALF);
	if (fd < 0)
		return;
	memset(buf, 0x5a, sizeof(buf));
	a = map_direct(fd, FLEN);
	if (a == MAP_FAILED) {
		kt_fail("md_hole_write", "setup: mmap3(RW, MAP_SHARED|MAP_DIRECT): %s", kt_errname(errno));
		goto out;
	}
	errno = 0;
	r1 = pwrite(fd, buf, PG, (off_t)(FLEN * 3 / 4));
	e1 = errno;
	errno = 0;
	r2 = pwrite(fd, buf, PG, 0);
	e2 = errno;
	munmap(a, FLEN);
	errno = 0;
	r3 = pwrite(fd, buf, PG, (off_t)(FLEN * 3 / 4));
	e3 = errno;
	kt_diag("md_hole_write: while sealed: pwrite into the hole at 1.5M: %s (want ETXTBSY), in place at 0: %s "
		"(want %lu); after munmap into the hole: %s (want %lu)",
		kt_rcstr(r1, e1), kt_rcstr(r2, e2), PG, kt_rcstr(r3, e3), PG);
	if (r1 == -1 && e1 == ETXTBSY && r2 == (long)PG && r3 == (long)PG)
		kt_ok("md_hole_write");
	else if (!(r1 == -1 && e1 == ETXTBSY))
		kt_fail("md_hole_write", "a write into a hole of a sealed file allocated blocks");
	else if (r2 != (long)PG)
		kt_fail("md_hole_write", "an in-place write to a sealed file failed");
	else
		kt_fail("md_hole_write", "the hole write still fails after the last munmap");
out:
	close(fd);
	unlink(path);
}

/* ---- md_swapext ---- */
struct dr_bstime {
	long tv_sec;
	int32_t tv_nsec;
};
struct dr_bstat {
	uint64_t bs_ino;
	uint16_t bs_mode, bs_nlink;
	uint32_t bs_uid, bs_gid, bs_rdev;
	int32_t bs_blksize;
	int64_t bs_size;
	struct dr_bstime bs_atime, bs_mtime, bs_ctime;
	int64_t bs_blocks;
	uint32_t bs_xflags;
	int32_t bs_extsize, bs_extents;
	uint32_t bs_gen;
	uint16_t bs_projid_lo, bs_forkoff, bs_projid_hi, bs_sick, bs_checked;
	unsigned char bs_pad[2];
	uint32_t bs_cowextsize, bs_dmevmask;
	uint16_t bs_dmstate, bs_aextents;
};
struct dr_swapext {
	int64_t sx_version, sx_fdtarget, sx_fdtmp;
	int64_t sx_offset, sx_length;
	char sx_pad[16];
	struct dr_bstat sx_stat;
};
#define DR_XFS_IOC_SWAPEXT _IOWR('X', 109, struct dr_swapext)

static void md_swapext(void)
{
	char path[512], tpath[512];
	struct dr_swapext sx;
	void *a;
	long r0, r1, r2;
	int fd, tfd, e0, e1, e2;
	if (md_gated("md_swapext"))
		return;
	fd = xfs_file("md_swapext", path, sizeof(path), F_WRITTEN);
	if (fd < 0)
		return;
	/* a sparse tmp file: no extents, so xfs_swap_extents_check_format() never objects to the counts */
	tfd = mkfile(xfs, tpath, sizeof(tpath), F_SPARSE);
	if (tfd < 0) {
		kt_fail("md_swapext", "setup: create the tmp file: %s", kt_errname(-tfd));
		goto out;
	}
	memset(&sx, 0, sizeof(sx));
	sx.sx_fdtarget = fd;
	sx.sx_fdtmp = tfd;
	sx.sx_length = (int64_t)FLEN;
	errno = 0;
	r0 = ioctl(fd, DR_XFS_IOC_SWAPEXT, &sx);
	e0 = errno;
	a = map_direct(fd, FLEN);
	if (a == MAP_FAILED) {
		kt_fail("md_swapext", "setup: mmap3(RW, MAP_SHARED|MAP_DIRECT): %s", kt_errname(errno));
		goto out_t;
	}
	errno = 0;
	r1 = ioctl(fd, DR_XFS_IOC_SWAPEXT, &sx);
	e1 = errno;
	munmap(a, FLEN);
	errno = 0;
	r2 = ioctl(fd, DR_XFS_IOC_SWAPEXT, &sx);
	e2 = errno;
	/* unsealed, the zeroed sx_stat does not match the target: EBUSY from the time check */
	kt_diag("md_swapext: XFS_IOC_SWAPEXT before mapping: %s; while sealed: %s (want EINVAL); after munmap: %s "
		"(want anything but EINVAL: the seal check passed)", kt_rcstr(r0, e0), kt_rcstr(r1, e1), kt_rcstr(r2, e2));
	if (r1 == -1 && e1 == EINVAL && !(r2 == -1 && e2 == EINVAL))
		kt_ok("md_swapext");
	else if (!(r1 == -1 && e1 == EINVAL))
		kt_fail("md_swapext", "XFS_IOC_SWAPEXT was not refused on a sealed file");
	else
		kt_fail("md_swapext", "XFS_IOC_SWAPEXT still EINVAL after the last munmap");
out_t:
	close(tfd);
	unlink(tpath);
out:
	close(fd);
	unlink(path);
}

/* ---- md_dedupe ---- */
struct dr_dedupe {
	uint64_t src_offset, src_length;
	uint16_t dest_count, reserved1;
	uint32_t reserved2;
	/* one struct file_dedupe_range_info */
	int64_t dest_fd;
	uint64_t dest_offset, bytes_deduped;
	int32_t status;
	uint32_t reserved;
};
struct dr_dedupe_hdr { /* struct file_dedupe_range without its info[] */
	uint64_t src_offset, src_length;
	uint16_t dest_count, reserved1;
	uint32_t reserved2;
};
#define DR_FIDEDUPERANGE _IOWR(0x94, 54, struct dr_dedupe_hdr)

static long dedupe(int src, int dst, struct dr_dedupe *d)
{
	memset(d, 0, sizeof(*d));
	d->src_length = 65536;
	d->dest_count = 1;
	d->dest_fd = dst;
	return ioctl(src, DR_FIDEDUPERANGE, d);
}

static void md_dedupe(void)
{
	char path[512], spath[512];
	struct dr_dedupe d1, d2;
	void *a;
	long r1, r2;
	int fd, sfd, e1, e2;
	if (md_gated("md_dedupe"))
		return;
	fd = dax_file_on("md_dedupe", xfs_reflink, "DAXRIG_XFS_REFLINK", path, sizeof(path), F_WRITTEN);
	if (fd < 0)
		return;
	sfd = mkfile(xfs_reflink, spath, sizeof(spath), F_WRITTEN); /* same contents (0x11) */
	if (sfd < 0) {
		kt_fail("md_dedupe", "setup: create the source: %s", kt_errname(-sfd));
		goto out;
	}
	a = map_direct(fd, FLEN);
	if (a == MAP_FAILED) {
		kt_fail("md_dedupe", "setup: mmap3(RW, MAP_SHARED|MAP_DIRECT): %s", kt_errname(errno));
		goto out_s;
	}
	errno = 0;
	r1 = dedupe(sfd, fd, &d1);
	e1 = errno;
	munmap(a, FLEN);
	errno = 0;
	r2 = dedupe(sfd, fd, &d2);
	e2 = errno;
	kt_diag("md_dedupe: FIDEDUPERANGE 64K into the sealed file: %s, status %d (want 0, status -ETXTBSY); "
		"after munmap: %s, status %d, %llu bytes (want 0, status 0, 65536)", kt_rcstr(r1, e1), d1.status,
		kt_rcstr(r2, e2), d2.status, (unsigned long long)d2.bytes_deduped);
	if (r1 == 0 && d1.status == -ETXTBSY && r2 == 0 && d2.status == 0 && d2.bytes_deduped == 65536)
		kt_ok("md_dedupe");
	else if (!(r1 == 0 && d1.status == -ETXTBSY))
		kt_fail("md_dedupe", "dedupe into a sealed file was not refused with ETXTBSY");
	else
		kt_fail("md_dedupe", "dedupe fails after the last munmap");
out_s:
	close(sfd);
	unlink(spath);
out:
	close(fd);
	unlink(path);
}

/* ---- md_reflink_sigbus ---- */
static void md_reflink_sigbus(void)
{
	char path[512], spath[512];
	int sfd;
	if (md_gated("md_reflink_sigbus"))
		return;
	sfd = dax_file_on("md_reflink_sigbus", xfs_reflink, "DAXRIG_XFS_REFLINK", spath, sizeof(spath), F_WRITTEN);
	if (sfd < 0)
		return;
	sig_fd = mkfile(xfs_reflink, path, sizeof(path), F_SPARSE);
	if (sig_fd < 0) {
		kt_fail("md_reflink_sigbus", "setup: create %s: %s", path, kt_errname(-sig_fd));
		goto out;
	}
	if (ioctl(sig_fd, DR_FICLONE, sfd) < 0) {
		kt_fail("md_reflink_sigbus", "setup: FICLONE on %s: %s (want a reflink=1 xfs)", xfs_reflink,
			kt_errname(errno));
	} else {
		sigbus_report("md_reflink_sigbus", "reflinked xfs-dax file");
	}
	close(sig_fd);
	unlink(path);
out:
	close(sfd);
	unlink(spath);
}

/* ---- md_fcntl_prot_read ---- */
static int pr_fd;
static int prot_read_child(void *unused)
{
	long r;
	(void)unused;
	if (kt_drop_priv(uid) < 0) {
		kt_diag("cannot drop to uid %ld: %s", uid, kt_errname(errno));
		return 255;
	}
	errno = 0;
	r = mmap3(NULL, FLEN, PROT_READ, MAP_SHARED | md, pr_fd, 0);
	kt_diag("md_fcntl_prot_read: unprivileged, granted fd, PROT_READ: %s (want EACCES)",
		kt_rcstr(r == -1 ? -1 : 0, errno));
	if (r != -1) {
		munmap((void *)r, FLEN);
		return 1;
	}
	if (errno != EACCES)
		return 1;
	errno = 0;
	r = mmap3(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED | md, pr_fd, 0);
	kt_diag("md_fcntl_prot_read: same fd, PROT_READ|PROT_WRITE: %s (want success)",
		kt_rcstr(r == -1 ? -1 : 0, errno));
	if (r == -1)
		return 2;
	munmap((void *)r, FLEN);
	return 0;
}

static void md_fcntl_prot_read(void)
{
	char path[512];
	struct kt_child c;
	long r;
	int e;
	if (md_gated("md_fcntl_prot_read"))
		return;
	if (fmd < 0) {
		kt_skip("md_fcntl_prot_read", "F_MAP_DIRECT not declared by the variant (DAXRIG_FCNTL_F_MAP_DIRECT unset)");
		return;
	}
	pr_fd = xfs_file("md_fcntl_prot_read", path, sizeof(path), F_WRITTEN);
	if (pr_fd < 0)
		return;
	errno = 0;
	r = fcntl(pr_fd, (int)fmd);
	e = errno;
	if (r == -1 && e == EINVAL)
		kt_skip("md_fcntl_prot_read", "F_MAP_DIRECT not in this kernel (fcntl %ld: EINVAL)", fmd);
	else if (r == -1)
		kt_fail("md_fcntl_prot_read", "root fcntl(F_MAP_DIRECT): %s, want success", kt_rcstr(r, e));
	else if (kt_run_child(prot_read_child, NULL, &c) < 0)
		kt_fail("md_fcntl_prot_read", "fork: %s", kt_errname(errno));
	else if (c.exited && c.code == 0)
		kt_ok("md_fcntl_prot_read");
	else if (c.exited && c.code == 1)
		kt_fail("md_fcntl_prot_read", "the F_MAP_DIRECT grant waived PROT_WRITE");
	else if (c.exited && c.code == 2)
		kt_fail("md_fcntl_prot_read", "the F_MAP_DIRECT grant does not let the holder map");
	else
		kt_fail("md_fcntl_prot_read", "child %s", kt_childstr(&c));
	close(pr_fd);
	unlink(path);
}

/* ---- md_plain_mmap_noseal ---- */
static void md_plain_mmap_noseal(void)
{
	void *p, *q;
	int s1 = -1, s2 = -1, s3, e1, e2;
	if (md_gated("md_plain_mmap_noseal") || life_setup("md_plain_mmap_noseal") < 0)
		return;
	errno = 0;
	p = mmap(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED | (int)md, life_fd, 0);
	e1 = errno;
	if (p != MAP_FAILED) {
		s1 = sealed(life_fd);
		munmap(p, FLEN);
	}
	errno = 0;
	q = mmap(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | (int)md, life_fd, 0);
	e2 = errno;
	if (q != MAP_FAILED) {
		s2 = sealed(life_fd);
		munmap(q, FLEN);
	}
	s3 = sealed(life_fd);
	kt_diag("md_plain_mmap_noseal: mmap(MAP_SHARED|MAP_DIRECT): %s, %s (want success, not sealed); "
		"mmap(MAP_SHARED_VALIDATE|MAP_DIRECT): %s, %s (want success, sealed); after munmap: %s",
		kt_rcstr(p == MAP_FAILED ? -1 : 0, e1), p == MAP_FAILED ? "-" : sealstr(s1),
		kt_rcstr(q == MAP_FAILED ? -1 : 0, e2), q == MAP_FAILED ? "-" : sealstr(s2), sealstr(s3));
	if (p != MAP_FAILED && s1 == 0 && q != MAP_FAILED && s2 == 1 && s3 == 0)
		kt_ok("md_plain_mmap_noseal");
	else if (p == MAP_FAILED || s1 != 0)
		kt_fail("md_plain_mmap_noseal", "plain MAP_SHARED must ignore MAP_DIRECT (map, no seal)");
	else if (q == MAP_FAILED || s2 != 1)
		kt_fail("md_plain_mmap_noseal", "MAP_SHARED_VALIDATE|MAP_DIRECT must map and seal");
	else
		kt_fail("md_plain_mmap_noseal", "the seal outlived the munmap");
	life_done();
}

/* ---- md_legacy_mmap_bit ---- */
#define LEGACY_BITS                                                                                          \
	(0x03L | 0x08L /* DROPPABLE */ | 0x10L | 0x20L | 0x40L /* 32BIT */ | 0x100L | 0x800L | 0x1000L |    \
	 0x2000L | 0x4000L | 0x8000L | 0x10000L | 0x20000L | 0x40000L | 0x80000L /* SYNC */ |                 \
	 0x100000L /* FIXED_NOREPLACE */ | 0xfc000000L /* UNINITIALIZED + MAP_HUGE_* */)

static void md_legacy_mmap_bit(void)
{
	char path[512];
	int fd, e;
	void *p;
	if (md < 0) {
		kt_skip("md_legacy_mmap_bit", "MAP_DIRECT not declared by the variant (DAXRIG_MMAP_MAP_DIRECT unset)");
		return;
	}
	/* observed behaviour of plain mmap(2) with the declared bit, for the record */
	if (xfs) {
		fd = mkfile(xfs, path, sizeof(path), 0);
		if (fd >= 0) {
			const char *how;
			int dax = kt_dax_probe(path, fd, &how);
			errno = 0;
			p = mmap(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | (int)md, fd, 0);
			e = errno;
			kt_diag("md_legacy_mmap_bit: mmap(MAP_SHARED_VALIDATE|0x%lx) on the xfs file (%s) = %s", md,
				dax == 1 ? "DAX" : how, kt_rcstr(p == MAP_FAILED ? -1 : 0, e));
			if (p != MAP_FAILED)
				munmap(p, FLEN);
			close(fd);
			unlink(path);
		}
	}
	if (md == MAP_SYNC)
		kt_fail("md_legacy_mmap_bit",
			"MAP_DIRECT declared as 0x%lx = MAP_SYNC: mmap(MAP_SHARED_VALIDATE|MAP_DIRECT) silently "
			"gives MAP_SYNC semantics; a forward-port must renumber MAP_DIRECT", md);
	else if (md == 0 || (md & LEGACY_BITS))
		kt_fail("md_legacy_mmap_bit", "MAP_DIRECT 0x%lx overlaps existing mmap flag bits 0x%lx", md,
			md & LEGACY_BITS);
	else
		kt_ok("md_legacy_mmap_bit");
}

int main(void)
{
	kt_plan(29);
	nr = kt_env_num("DAXRIG_NR_MMAP3");
	md = kt_env_num("DAXRIG_MMAP_MAP_DIRECT");
	fmd = kt_env_num("DAXRIG_FCNTL_F_MAP_DIRECT");
	xfs = kt_env("DAXRIG_XFS");
	xfs_reflink = kt_env("DAXRIG_XFS_REFLINK");
	if (kt_env_num("DAXRIG_UNPRIV_UID") >= 0)
		uid = kt_env_num("DAXRIG_UNPRIV_UID");

	if (nr < 0)
		snprintf(kt_gate_skip, sizeof(kt_gate_skip), "mmap3 not declared by the variant (DAXRIG_NR_MMAP3 unset)");
	else if (nr == 333 || nr == 385)
		snprintf(kt_gate_skip, sizeof(kt_gate_skip), "mmap3 number %ld refused: it is io_pgetevents on kernels >= 4.18", nr);
	else if (md < 0)
		snprintf(kt_gate_skip, sizeof(kt_gate_skip), "MAP_DIRECT not declared by the variant (DAXRIG_MMAP_MAP_DIRECT unset)");

	md_probe();
	md_ok();
	simple_case("md_noprot_write", PROT_READ, MAP_SHARED | md, EACCES, 1);
	simple_case("md_private", PROT_READ | PROT_WRITE, MAP_PRIVATE | md, EINVAL, 1);
	simple_case("md_anon", PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | md, EINVAL, 0);
	md_nocap();
	md_fcntl_grant();
	seal_case("md_seal_truncate", OP_TRUNCATE, "ftruncate(1M)");
	seal_case("md_seal_fallocate", OP_FALLOCATE, "fallocate(0, 4M, 64K)");
	seal_case("md_seal_extend_write", OP_EXTEND, "pwrite at 6M");
	seal_case("md_seal_punch", OP_PUNCH, "fallocate(PUNCH_HOLE|KEEP_SIZE, 0, 64K)");
	seal_case("md_seal_reflink", OP_REFLINK, "FICLONE into the file");
	md_hole_sigbus();
	md_nondax();
	md_other_fs();
	md_mmap3_unknown_bit();
	md_seal_second_map();
	md_seal_partial_munmap();
	md_seal_fork();
	md_seal_mremap();
	md_seal_exit();
	md_falloc_sigbus();
	md_hole_write();
	md_swapext();
	md_dedupe();
	md_reflink_sigbus();
	md_fcntl_prot_read();
	md_plain_mmap_noseal();
	md_legacy_mmap_bit();
	return kt_exit();
}
