/*
 * map_direct.c - MAP_DIRECT v5 (Dan Williams, Aug 2017; never merged), docs/kernel-behaviour.md §6, §8.
 *
 * Numbers come from the variant only (never hard-coded, never 333):
 *   DAXRIG_NR_MMAP3            mmap3 / sys_mmap_pgoff_strict(addr, len, prot, flags, fd, pgoff)
 *                              (argument order assumed identical to mmap_pgoff; every case uses pgoff 0)
 *   DAXRIG_MMAP_MAP_DIRECT     the MAP_DIRECT flag value
 *   DAXRIG_FCNTL_F_MAP_DIRECT  the F_MAP_DIRECT fcntl command
 * Optional: DAXRIG_XFS_NODAX (an xfs mounted without dax, for md_nondax), DAXRIG_UNPRIV_UID (65534).
 *
 * On a stock kernel every case SKIPs ("... not declared by the variant" / "mmap3 not in this
 * kernel (ENOSYS)"), except md_legacy_mmap_bit, which only needs DAXRIG_MMAP_MAP_DIRECT: it FAILS
 * whenever the declared value aliases MAP_SYNC (0x80000, the value as posted) or another mmap bit.
 *
 *   md_probe              mmap3 is a working mmap (anon map OK); mmap3(MAP_SHARED|MAP_DIRECT, fd -1)
 *                         -> EBADF or EOPNOTSUPP; F_MAP_DIRECT as root -> 0 (diag)
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
 *   md_seal_reflink       FICLONE into the file                             -> ETXTBSY; after munmap OK
 *                         (SKIP when the xfs has no reflink: the rig makes xfs with -m reflink=0)
 *   md_hole_sigbus        mmap3 over a sparse file, store                   -> SIGBUS
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
static const char *xfs;

static long mmap3(void *addr, size_t len, int prot, long flags, int fd, unsigned long pgoff)
{
	return syscall(nr, addr, len, prot, flags, fd, pgoff);
}

/* ---- files ---- */
static int nfile;

/* create a file on dir: sparse (ftruncate only) or written; mode 0666. -errno on failure */
static int mkfile(const char *dir, char *path, size_t psz, int sparse)
{
	int fd;
	char base[64];
	snprintf(base, sizeof(base), "daxrig_md%d", nfile++);
	kt_path(path, psz, dir, base);
	if (sparse) {
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
 * An xfs-dax file for a case. Returns fd, or -1 after reporting the case as SKIP/FAIL.
 */
static int xfs_file(const char *name, char *path, size_t psz, int sparse)
{
	const char *how;
	int fd, dax;
	if (!xfs) {
		kt_skip(name, "no xfs-dax mount in this machine (DAXRIG_XFS unset)");
		return -1;
	}
	fd = mkfile(xfs, path, psz, sparse);
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
	if (kt_gated(name))
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
	if (kt_gated("md_ok"))
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
	if (kt_gated("md_nocap"))
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
	if (kt_gated("md_fcntl_grant"))
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
	if (kt_gated(name))
		return;
	fd = xfs_file(name, path, sizeof(path), 0);
	if (fd < 0)
		return;
	spath[0] = 0;
	if (op == OP_REFLINK) {
		char tpath[512];
		int tfd;
		srcfd = mkfile(xfs, spath, sizeof(spath), 0);
		tfd = mkfile(xfs, tpath, sizeof(tpath), 0);
		if (srcfd < 0 || tfd < 0) {
			kt_fail(name, "setup: create reflink source: %s", kt_errname(srcfd < 0 ? -srcfd : -tfd));
			goto out_t;
		}
		/* can this xfs reflink at all? */
		if (ioctl(tfd, DR_FICLONE, srcfd) < 0) {
			kt_skip(name, "reflink not available on this xfs (FICLONE %s; made with -m reflink=0?)",
				kt_errname(errno));
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
	if (kt_gated("md_hole_sigbus"))
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
	if (kt_gated("md_nondax"))
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
	kt_plan(16);
	nr = kt_env_num("DAXRIG_NR_MMAP3");
	md = kt_env_num("DAXRIG_MMAP_MAP_DIRECT");
	fmd = kt_env_num("DAXRIG_FCNTL_F_MAP_DIRECT");
	xfs = kt_env("DAXRIG_XFS");
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
	md_legacy_mmap_bit();
	return kt_exit();
}
