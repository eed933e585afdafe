/*
 * daxfile.c - daxfile / daxctl() RFC (Dan Williams, Jun 2017; never merged) and its 6.1 forward port
 * (tests/patches/daxfile-rfc-6.1), docs/kernel-behaviour.md §7, §8.
 *
 * daxctl(const char *path, int flags, int align); number from DAXRIG_NR_DAXCTL only (never 333).
 * DAXCTL_F_GET = 1, DAXCTL_F_DAX = 2 (invalid), DAXCTL_F_STATIC = 4.
 * The file cases run once per DAX filesystem of the machine: suffix _ext4 on $DAXRIG_EXT4, _xfs on
 * $DAXRIG_XFS (reflink=0), _xfs_reflink on $DAXRIG_XFS_REFLINK (reflink=1); a filesystem the machine
 * lacks makes its cases SKIP with the reason. Unprivileged cases run in a child after
 * setuid($DAXRIG_UNPRIV_UID, default 65534); the files are mode 0666 because daxctl opens the path
 * O_RDWR even for F_GET.
 *
 * On a stock kernel every case SKIPs ("daxctl not declared by the variant" or
 * "daxctl not in this kernel (ENOSYS)").
 *
 * Once:
 *   dc_probe        daxctl("/nonexistent", F_GET, 0)              -> ENOENT (ENOSYS => SKIP all)
 *   dc_badflags     flags DAXCTL_F_DAX and 1<<5                  -> EINVAL both (checked before the path)
 *   dc_nondax       F_STATIC on ext4 dax=never and on tmpfs       -> EINVAL
 *   dc_nonreg       F_STATIC on /dev/null and $DAXRIG_PMEM        -> EINVAL
 * Per DAX filesystem FS (ext4, xfs, xfs_reflink), in this order, on a written 2M file F:
 *   dc_get_unpriv_FS       unprivileged F_GET                      -> 0
 *   dc_nocap_FS            unprivileged F_STATIC                   -> EPERM
 *   dc_hole_FS             F_STATIC on a sparse file               -> EINVAL
 *   dc_badalign_FS         F_STATIC with align -1, 12288, 2048     -> EINVAL each
 *   dc_misaligned_FS       F_STATIC align 2M on a file whose extents are not 2M-aligned (FIEMAP says
 *                          so) -> EINVAL, while align 4096 -> 0 (then cleared)
 *   dc_clear_nondaxfile_FS flags 0 on F (not a daxfile)            -> 0, F_GET -> 0
 *   dc_static_ok_FS        F_STATIC on F, align 0                  -> 0, then F_GET -> 4
 *   dc_idempotent_FS       F_STATIC again                          -> 0 (not EBUSY)
 *   dc_unpriv_clear_FS     unprivileged flags 0                    -> EPERM, still a daxfile
 *   dc_truncate_FS         ftruncate shrink, ftruncate grow, fallocate, pwrite past EOF, pwrite
 *                          across EOF -> ETXTBSY each (the port freezes the size; see the variant)
 *   dc_pwrite_inplace_FS   pwrite inside EOF                       -> full count, read back
 *                          (a naive port that keeps the 2019 swapfile write ban: ETXTBSY, FAIL)
 *   dc_mmap_write_FS       MAP_SHARED PROT_WRITE mmap + store + msync -> OK; a naive port (S_SWAPFILE left
 *                          untouchable) gives ETXTBSY at mmap or SIGBUS at the store: FAIL, explained
 *   dc_unlink_FS           unlink F                                -> EPERM, F still there
 *   dc_rename_FS           rename F                                -> EPERM
 *   dc_swapon_daxfile_FS   swapon F                                -> EBUSY (SKIP without swap: ENOSYS)
 *   dc_ficlone_FS          FICLONE into F                          -> ETXTBSY, also where the fs cannot
 *                          reflink at all (ext4, xfs reflink=0: an ordinary FICLONE is EOPNOTSUPP)
 *   dc_copy_range_FS       copy_file_range into F                  -> ETXTBSY
 *   dc_umount_busy_FS      a bind mount of the fs, a daxfile made through it, every fd closed:
 *                          umount -> EBUSY; after clearing the daxfile umount -> 0
 *   dc_swapon_busy_FS      swapon a fresh file, then F_STATIC      -> EBUSY; where swapon of a DAX file is
 *                          EINVAL (6.1) the rule is unreachable: then F_STATIC -> 0 and swapon of the
 *                          daxfile -> EBUSY (see the case)
 *   dc_clear_FS            flags 0, then F_GET                     -> 0 and 0; ftruncate works again
 * Every daxfile the program made is cleared before it exits (an active daxfile keeps the file open in
 * the kernel, so its filesystem could not be unmounted).
 */
#include "ktap.h"
#include <sys/mount.h>
#include <sys/swap.h>

#define PG 4096UL
#define FLEN (2UL << 20)
#define ALIGN_2M (2L << 20)
#define DAXCTL_F_GET 1
#define DAXCTL_F_DAX 2
#define DAXCTL_F_STATIC 4
#ifndef SYS_swapon
#define SYS_swapon 167
#endif
#ifndef SYS_swapoff
#define SYS_swapoff 168
#endif
#ifndef SYS_copy_file_range
#define SYS_copy_file_range 326
#endif
#define KT_FICLONE 0x40049409UL    /* _IOW(0x94, 9, int) */
#define KT_FS_IOC_FIEMAP 0xC020660BUL /* _IOWR('f', 11, struct fiemap) */
#define KT_FIEMAP_FLAG_SYNC 1U
#define KT_FIEMAP_EXTENT_LAST 1U

#define NFS 3
#define NCASES_FS 20
#define NCASES (4 + NFS * NCASES_FS)

static long nr = -1, uid = 65534;

struct fsctx {
	const char *fs;   /* "ext4" / "xfs" / "xfs_reflink": the case names' suffix */
	const char *env;  /* the variable naming its mount point */
	const char *dir;  /* mount point, NULL if absent */
	char path[512];   /* the main DAX file F */
	char lnk[512];    /* a second name of F, for cleanup if unlink wrongly succeeds */
	char why[512];    /* why the cases skip when there is no F */
	int fd;
	int static_ok;    /* dc_static_ok made F a daxfile */
};

/* every path that daxctl(F_STATIC) succeeded on, cleared at exit */
#define MAXMADE 32
static char made[MAXMADE][512];
static int nmade;

static long daxctl(const char *path, int flags, int align)
{
	return syscall(nr, path, flags, align);
}

static void track(const char *path)
{
	int i;
	for (i = 0; i < nmade; i++)
		if (!strcmp(made[i], path))
			return;
	if (nmade < MAXMADE)
		snprintf(made[nmade++], sizeof(made[0]), "%s", path);
}

/* F_STATIC, remembering a success for the final cleanup */
static long daxctl_static(const char *path, int align)
{
	long r = daxctl(path, DAXCTL_F_STATIC, align);
	if (r >= 0)
		track(path);
	return r;
}

static void cleanup_all(void)
{
	int i;
	for (i = 0; i < nmade; i++) {
		errno = 0;
		if (daxctl(made[i], 0, 0) < 0 && errno != ENOENT)
			kt_diag("cleanup: daxctl(%s, 0) = %s", made[i], kt_errname(errno));
	}
}

static const char *cname(const char *base, const struct fsctx *c)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s_%s", base, c->fs);
	return buf;
}

/* 1 when the case was reported (gated or no DAX file on this fs) */
static int need_dax(const char *name, const struct fsctx *c)
{
	if (kt_gated(name))
		return 1;
	if (c->fd < 0) {
		kt_skip(name, "%s", c->why);
		return 1;
	}
	return 0;
}

/* 1 when the case was reported because F is not a daxfile */
static int need_static(const char *name, const struct fsctx *c)
{
	if (need_dax(name, c))
		return 1;
	if (!c->static_ok) {
		kt_skip(name, "precondition: dc_static_ok_%s did not make a daxfile", c->fs);
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

/* 1 pass, 0 fail (reported by the caller), -1 setup problem (reported here as FAIL) */
static int unpriv_call(const char *name, const char *path, int flags, long want_rc, int want_err)
{
	struct kt_child ch;
	long rc;
	int err;
	uflags = flags;
	upath = path;
	if (kt_run_child(unpriv_child, NULL, &ch) < 0) {
		kt_fail(name, "fork: %s", kt_errname(errno));
		return -1;
	}
	if (ch.exited && ch.code == 255) {
		kt_fail(name, "setup: could not drop privileges");
		return -1;
	}
	if (kt_dec(&ch, &rc, &err) < 0) {
		kt_fail(name, "child %s", kt_childstr(&ch));
		return -1;
	}
	kt_diag("%s: uid %ld daxctl(flags %d) = %s, want %s", name, uid, flags, kt_rcstr(rc, err),
		want_err ? kt_wantstr(want_err) : "0");
	return (want_err && rc == -1 && err == want_err) || (!want_err && rc == want_rc);
}

static void unpriv_case(const char *name, const char *path, int flags, long want_rc, int want_err)
{
	int r = unpriv_call(name, path, flags, want_rc, want_err);
	if (r > 0)
		kt_ok(name);
	else if (r == 0)
		kt_fail(name, "unexpected result");
}

/* ---- root call on a list of paths, each must give EINVAL ---- */
static void einval_on(const char *name, const char **paths, int n, const char *none)
{
	int i, tested = 0, bad = 0;
	long r;
	for (i = 0; i < n; i++) {
		if (!paths[i])
			continue;
		errno = 0;
		r = daxctl_static(paths[i], 0);
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
static int mmap_fd = -1;
static int mmap_child(void *unused)
{
	volatile unsigned char *m;
	unsigned char b;
	(void)unused;
	m = mmap(NULL, FLEN, PROT_READ | PROT_WRITE, MAP_SHARED, mmap_fd, 0);
	if (m == MAP_FAILED)
		return kt_enc(-1, errno);
	m[0] = 0xd7;
	m[FLEN - 1] = 0x7d;
	if (msync((void *)m, FLEN, MS_SYNC) < 0) {
		kt_diag("dc_mmap_write: msync: %s", kt_errname(errno));
		return 254;
	}
	if (pread(mmap_fd, &b, 1, 0) != 1 || b != 0xd7) {
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

/* ---- FIEMAP: does the file's block map satisfy daxctl's chunk rule for align? ---- */
struct kt_fiemap_extent {
	uint64_t fe_logical, fe_physical, fe_length, fe_reserved64[2];
	uint32_t fe_flags, fe_reserved[3];
};
struct kt_fiemap {
	uint64_t fm_start, fm_length;
	uint32_t fm_flags, fm_mapped_extents, fm_extent_count, fm_reserved;
	struct kt_fiemap_extent fm_extents[64];
};

/* 1 = every align chunk contiguous and aligned, 0 = not, -errno = FIEMAP failed */
static int fiemap_fits(int fd, uint64_t align, char *desc, size_t dsz)
{
	static struct kt_fiemap fm;
	uint64_t next = 0;
	uint32_t i;
	size_t o = 0;
	int fits = 1;
	memset(&fm, 0, sizeof(fm));
	fm.fm_length = ~0ULL;
	fm.fm_flags = KT_FIEMAP_FLAG_SYNC;
	fm.fm_extent_count = 64;
	if (ioctl(fd, KT_FS_IOC_FIEMAP, &fm) < 0)
		return -errno;
	desc[0] = 0;
	for (i = 0; i < fm.fm_mapped_extents; i++) {
		const struct kt_fiemap_extent *e = &fm.fm_extents[i];
		if (o < dsz)
			o += snprintf(desc + o, dsz - o, "%s[%llu+%llu@%llu]", i ? " " : "",
				      (unsigned long long)e->fe_logical, (unsigned long long)e->fe_length,
				      (unsigned long long)e->fe_physical);
		if (e->fe_logical & (align - 1)) {
			if (e->fe_physical != next)
				fits = 0;
		} else if (e->fe_physical & (align - 1)) {
			fits = 0;
		}
		next = e->fe_physical + e->fe_length;
	}
	return fits;
}

/* ---- the main DAX file of one filesystem ---- */
static void setup_fs(struct fsctx *c)
{
	const char *how;
	int fd;
	if (kt_gate_skip[0] || kt_gate_fail[0])
		return;
	if (!c->dir) {
		snprintf(c->why, sizeof(c->why), "no %s DAX filesystem in this machine (%s unset)", c->fs, c->env);
		return;
	}
	kt_path(c->path, sizeof(c->path), c->dir, "daxrig_daxfile");
	fd = kt_make_file(c->path, FLEN, 0x5a);
	if (fd < 0) {
		snprintf(c->why, sizeof(c->why), "setup: create %s: %s", c->path, kt_errname(-fd));
		return;
	}
	if (kt_dax_probe(c->path, fd, &how) != 1) {
		snprintf(c->why, sizeof(c->why), "DAX not active on %s (%s)", c->dir, how);
		close(fd);
		unlink(c->path);
		return;
	}
	snprintf(c->lnk, sizeof(c->lnk), "%s.lnk", c->path);
	unlink(c->lnk);
	if (link(c->path, c->lnk) < 0) {
		kt_diag("%s: link %s: %s (no second name for cleanup)", c->fs, c->lnk, kt_errname(errno));
		c->lnk[0] = 0;
	}
	fchmod(fd, 0666);
	c->fd = fd;
	kt_diag("daxfile %s: %s (%s)", c->fs, c->path, how);
}

static void case_hole(struct fsctx *c)
{
	const char *name = cname("dc_hole", c);
	char hp[512];
	int hfd;
	long r;
	int e;
	if (need_dax(name, c))
		return;
	kt_path(hp, sizeof(hp), c->dir, "daxrig_daxfile_hole");
	unlink(hp);
	hfd = open(hp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (hfd < 0 || ftruncate(hfd, (off_t)FLEN) < 0) {
		kt_fail(name, "setup: sparse file %s: %s", hp, kt_errname(errno));
	} else {
		errno = 0;
		r = daxctl_static(hp, 0);
		e = errno;
		kt_diag("%s: daxctl(sparse file, F_STATIC) = %s, want EINVAL", name, kt_rcstr(r, e));
		if (r == -1 && e == EINVAL)
			kt_ok(name);
		else
			kt_fail(name, "a file with holes must not become a daxfile");
		if (r >= 0)
			daxctl(hp, 0, 0);
	}
	if (hfd >= 0)
		close(hfd);
	unlink(hp);
}

static void case_badalign(struct fsctx *c)
{
	const char *name = cname("dc_badalign", c);
	static const int aligns[] = { -1, 12288, 2048, 1 };
	unsigned i;
	int bad = 0;
	long r;
	if (need_dax(name, c))
		return;
	for (i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		errno = 0;
		r = daxctl_static(c->path, aligns[i]);
		kt_diag("%s: daxctl(F, F_STATIC, %d) = %s, want EINVAL", name, aligns[i], kt_rcstr(r, errno));
		if (!(r == -1 && errno == EINVAL))
			bad++;
		if (r >= 0)
			daxctl(c->path, 0, 0);
	}
	if (bad)
		kt_fail(name, "an invalid align was accepted or gave another error");
	else
		kt_ok(name);
}

/* F_STATIC with align 2M on a file whose first 4K block is apart from the rest */
static void case_misaligned(struct fsctx *c)
{
	const char *name = cname("dc_misaligned", c);
	static char buf[FLEN];
	char xp[512], yp[512], desc[512];
	int xfd = -1, yfd = -1, fits, tries;
	long r2, r4;
	int e2, e4;
	if (need_dax(name, c))
		return;
	kt_path(xp, sizeof(xp), c->dir, "daxrig_daxfile_frag");
	kt_path(yp, sizeof(yp), c->dir, "daxrig_daxfile_frag_pad");
	memset(buf, 0x33, sizeof(buf));
	fits = 1;
	/* interleave: 4K of X, 4K of Y, then the rest of X; retry a few times if FIEMAP says it fits */
	for (tries = 0; tries < 4 && fits == 1; tries++) {
		if (xfd >= 0)
			close(xfd);
		if (yfd >= 0)
			close(yfd);
		unlink(xp);
		unlink(yp);
		xfd = open(xp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		yfd = open(yp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (xfd < 0 || yfd < 0 || pwrite(xfd, buf, PG, 0) != (ssize_t)PG || fsync(xfd) < 0 ||
		    pwrite(yfd, buf, PG * (tries + 1), 0) != (ssize_t)(PG * (tries + 1)) || fsync(yfd) < 0 ||
		    pwrite(xfd, buf, FLEN - PG, (off_t)PG) != (ssize_t)(FLEN - PG) || fsync(xfd) < 0) {
			kt_fail(name, "setup: fragmented file %s: %s", xp, kt_errname(errno));
			goto out;
		}
		fits = fiemap_fits(xfd, (uint64_t)ALIGN_2M, desc, sizeof(desc));
		kt_diag("%s: try %d: FIEMAP %s -> %s", name, tries + 1, desc,
			fits == 1 ? "2M-aligned (retry)" : fits == 0 ? "not 2M-aligned" : kt_errname(-fits));
	}
	if (fits < 0) {
		kt_skip(name, "FIEMAP failed (%s): cannot tell how the file is laid out", kt_errname(-fits));
		goto out;
	}
	if (fits == 1) {
		kt_skip(name, "could not make a file whose extents are not 2M-aligned");
		goto out;
	}
	errno = 0;
	r2 = daxctl_static(xp, (int)ALIGN_2M);
	e2 = errno;
	if (r2 >= 0)
		daxctl(xp, 0, 0);
	errno = 0;
	r4 = daxctl_static(xp, 4096);
	e4 = errno;
	if (r4 >= 0)
		daxctl(xp, 0, 0);
	kt_diag("%s: align 2M = %s (want EINVAL), align 4096 = %s (want 0)", name, kt_rcstr(r2, e2),
		kt_rcstr(r4, e4));
	if (r2 == -1 && e2 == EINVAL && r4 == 0)
		kt_ok(name);
	else if (r4 != 0)
		kt_fail(name, "the fragmented file must qualify at align 4096 (else the 2M refusal proves nothing)");
	else
		kt_fail(name, "a file whose 2M chunks are not contiguous and aligned was accepted at align 2M");
out:
	if (xfd >= 0)
		close(xfd);
	if (yfd >= 0)
		close(yfd);
	unlink(xp);
	unlink(yp);
}

static void case_clear_nondaxfile(struct fsctx *c)
{
	const char *name = cname("dc_clear_nondaxfile", c);
	long r, g;
	int e, ge;
	if (need_dax(name, c))
		return;
	errno = 0;
	r = daxctl(c->path, 0, 0);
	e = errno;
	errno = 0;
	g = daxctl(c->path, DAXCTL_F_GET, 0);
	ge = errno;
	kt_diag("%s: flags 0 on a file that is no daxfile = %s, F_GET = %s; want 0, 0", name, kt_rcstr(r, e),
		kt_rcstr(g, ge));
	if (r == 0 && g == 0)
		kt_ok(name);
	else
		kt_fail(name, "unexpected result");
}

static void case_static_ok(struct fsctx *c)
{
	const char *name = cname("dc_static_ok", c);
	long r, g;
	int e, ge;
	if (need_dax(name, c))
		return;
	errno = 0;
	r = daxctl_static(c->path, 0);
	e = errno;
	errno = 0;
	g = daxctl(c->path, DAXCTL_F_GET, 0);
	ge = errno;
	kt_diag("%s: F_STATIC = %s (want 0), then F_GET = %s (want 4)", name, kt_rcstr(r, e), kt_rcstr(g, ge));
	c->static_ok = r == 0;
	if (r == 0 && g == DAXCTL_F_STATIC)
		kt_ok(name);
	else
		kt_fail(name, "unexpected result");
}

static void case_idempotent(struct fsctx *c)
{
	const char *name = cname("dc_idempotent", c);
	long r;
	int e;
	if (need_static(name, c))
		return;
	errno = 0;
	r = daxctl_static(c->path, 0);
	e = errno;
	kt_diag("%s: F_STATIC on a daxfile = %s, want 0", name, kt_rcstr(r, e));
	if (r == 0)
		kt_ok(name);
	else
		kt_fail(name, "%s", e == EBUSY ? "EBUSY: enabling twice must return 0" : "unexpected result");
}

static void case_unpriv_clear(struct fsctx *c)
{
	const char *name = cname("dc_unpriv_clear", c);
	int r;
	long g;
	if (need_static(name, c))
		return;
	r = unpriv_call(name, c->path, 0, 0, EPERM);
	if (r < 0)
		return;
	g = daxctl(c->path, DAXCTL_F_GET, 0);
	kt_diag("%s: F_GET afterwards = %s, want 4", name, kt_rcstr(g, errno));
	if (r > 0 && g == DAXCTL_F_STATIC)
		kt_ok(name);
	else
		kt_fail(name, "an unprivileged caller must not clear a daxfile");
	if (g == 0 && daxctl_static(c->path, 0) != 0) /* it was cleared: restore for the next cases */
		c->static_ok = 0;
}

static void case_truncate(struct fsctx *c)
{
	const char *name = cname("dc_truncate", c);
	static char buf[PG];
	long r[5];
	int e[5], i, ok = 1;
	struct stat st;
	if (need_static(name, c))
		return;
	errno = 0;
	r[0] = ftruncate(c->fd, (off_t)(FLEN / 2));
	e[0] = errno;
	errno = 0;
	r[1] = ftruncate(c->fd, (off_t)(FLEN * 2));
	e[1] = errno;
	errno = 0;
	r[2] = fallocate(c->fd, 0, (off_t)FLEN, 65536);
	e[2] = errno;
	errno = 0;
	r[3] = pwrite(c->fd, buf, PG, (off_t)FLEN * 2);
	e[3] = errno;
	errno = 0;
	r[4] = pwrite(c->fd, buf, PG, (off_t)(FLEN - PG / 2));
	e[4] = errno;
	kt_diag("%s: ftruncate shrink %s, ftruncate grow %s, fallocate %s, pwrite past EOF %s, "
		"pwrite across EOF %s; want ETXTBSY each", name, kt_rcstr(r[0], e[0]), kt_rcstr(r[1], e[1]),
		kt_rcstr(r[2], e[2]), kt_rcstr(r[3], e[3]), kt_rcstr(r[4], e[4]));
	for (i = 0; i < 5; i++)
		if (!(r[i] == -1 && e[i] == ETXTBSY))
			ok = 0;
	if (fstat(c->fd, &st) == 0 && (unsigned long)st.st_size != FLEN) {
		kt_diag("%s: size is now %lld, want %lu", name, (long long)st.st_size, FLEN);
		ok = 0;
	}
	if (ok)
		kt_ok(name);
	else
		kt_fail(name, "the daxfile block map or size is not static");
}

static void case_pwrite_inplace(struct fsctx *c)
{
	const char *name = cname("dc_pwrite_inplace", c);
	static const char msg[] = "daxrig in-place update";
	char back[sizeof(msg)];
	ssize_t w;
	int e;
	if (need_static(name, c))
		return;
	errno = 0;
	w = pwrite(c->fd, msg, sizeof(msg), 8192);
	e = errno;
	kt_diag("%s: pwrite(%zu bytes at 8192) = %s, want %zu", name, sizeof(msg), kt_rcstr(w, e), sizeof(msg));
	if (w == -1 && e == ETXTBSY) {
		kt_fail(name, "ETXTBSY: naive port - generic_write_checks refuses every write to an S_SWAPFILE inode "
			      "(fs/read_write.c), so a daxfile cannot be updated in place");
		return;
	}
	if (w != (ssize_t)sizeof(msg)) {
		kt_fail(name, "an in-place write to a daxfile must succeed");
		return;
	}
	if (pread(c->fd, back, sizeof(back), 8192) != (ssize_t)sizeof(back) || memcmp(back, msg, sizeof(msg))) {
		kt_fail(name, "pread does not see the written bytes");
		return;
	}
	kt_ok(name);
}

static void case_mmap_write(struct fsctx *c)
{
	const char *name = cname("dc_mmap_write", c);
	struct kt_child ch;
	long rc;
	int err;
	if (need_static(name, c))
		return;
	mmap_fd = c->fd;
	if (kt_run_child(mmap_child, NULL, &ch) < 0) {
		kt_fail(name, "fork: %s", kt_errname(errno));
	} else if (ch.exited && ch.code == 0) {
		kt_diag("%s: MAP_SHARED PROT_WRITE mapping, stores at 0 and %lu, msync, read back: ok", name, FLEN - 1);
		kt_ok(name);
	} else if (ch.signaled && ch.sig == SIGBUS) {
		kt_fail(name, "SIGBUS on the first store: naive port - do_page_mkwrite refuses "
			      "S_SWAPFILE inodes (mm/memory.c), so a daxfile is not writable through mmap");
	} else if (ch.exited && ch.code < 253 && kt_dec(&ch, &rc, &err) == 0) {
		if (rc == -1 && err == ETXTBSY)
			kt_fail(name, "mmap(MAP_SHARED, PROT_WRITE) ETXTBSY: naive port - mmap refuses "
				      "writable shared maps of S_SWAPFILE inodes (mm/mmap.c)");
		else
			kt_fail(name, "mmap(MAP_SHARED, PROT_WRITE): %s, want success", kt_rcstr(rc, err));
	} else {
		kt_fail(name, "store/msync/readback through the mapping: child %s", kt_childstr(&ch));
	}
}

static void case_unlink(struct fsctx *c)
{
	const char *name = cname("dc_unlink", c);
	struct stat st;
	long r;
	int e;
	if (need_static(name, c))
		return;
	errno = 0;
	r = unlink(c->path);
	e = errno;
	kt_diag("%s: unlink(F) = %s, want EPERM", name, kt_rcstr(r, e));
	if (r == 0) {
		kt_fail(name, "a daxfile was unlinked");
		if (c->lnk[0] && link(c->lnk, c->path) < 0) /* give it its name back */
			kt_diag("%s: relink: %s", name, kt_errname(errno));
		return;
	}
	if (e == EPERM && stat(c->path, &st) == 0)
		kt_ok(name);
	else
		kt_fail(name, "unexpected result");
}

static void case_rename(struct fsctx *c)
{
	const char *name = cname("dc_rename", c);
	char np[600];
	long r;
	int e;
	if (need_static(name, c))
		return;
	snprintf(np, sizeof(np), "%s.renamed", c->path);
	errno = 0;
	r = rename(c->path, np);
	e = errno;
	kt_diag("%s: rename(F) = %s, want EPERM", name, kt_rcstr(r, e));
	if (r == 0) {
		kt_fail(name, "a daxfile was renamed");
		if (rename(np, c->path) < 0)
			kt_diag("%s: rename back: %s", name, kt_errname(errno));
	} else if (e == EPERM) {
		kt_ok(name);
	} else {
		kt_fail(name, "unexpected result");
	}
}

static void case_swapon_daxfile(struct fsctx *c)
{
	const char *name = cname("dc_swapon_daxfile", c);
	long r;
	int e;
	if (need_static(name, c))
		return;
	errno = 0;
	r = syscall(SYS_swapon, c->path, 0);
	e = errno;
	kt_diag("%s: swapon(F) = %s, want EBUSY", name, kt_rcstr(r, e));
	if (r == -1 && e == ENOSYS) {
		kt_skip(name, "swapon: ENOSYS (kernel without CONFIG_SWAP)");
	} else if (r == -1 && e == EBUSY) {
		kt_ok(name);
	} else {
		if (r == 0 && syscall(SYS_swapoff, c->path) < 0)
			kt_diag("%s: swapoff: %s", name, kt_errname(errno));
		kt_fail(name, "unexpected result");
	}
}

static void case_ficlone(struct fsctx *c)
{
	const char *name = cname("dc_ficlone", c);
	char sp[512], tp[512];
	int sfd = -1, tfd = -1;
	long r, r0;
	int e, e0;
	if (need_static(name, c))
		return;
	kt_path(sp, sizeof(sp), c->dir, "daxrig_daxfile_clone_src");
	kt_path(tp, sizeof(tp), c->dir, "daxrig_daxfile_clone_dst");
	sfd = kt_make_file(sp, 65536, 0x11);
	tfd = kt_make_file(tp, 65536, 0x22);
	if (sfd < 0 || tfd < 0) {
		kt_fail(name, "setup: %s", kt_errname(-(sfd < 0 ? sfd : tfd)));
		goto out;
	}
	/*
	 * Can this filesystem reflink at all?  The answer only goes into the diagnostics: the port
	 * refuses a clone into a daxfile in the VFS, before the filesystem is asked, so a daxfile
	 * answers ETXTBSY on ext4 and on reflink=0 xfs too, where an ordinary clone is EOPNOTSUPP.
	 * A kernel that lets the filesystem answer first gives EOPNOTSUPP there: FAIL.
	 */
	errno = 0;
	r0 = ioctl(tfd, KT_FICLONE, sfd);
	e0 = errno;
	errno = 0;
	r = ioctl(c->fd, KT_FICLONE, sfd);
	e = errno;
	kt_diag("%s: FICLONE between two ordinary files = %s; into the daxfile = %s, want ETXTBSY", name,
		kt_rcstr(r0, e0), kt_rcstr(r, e));
	if (r == -1 && e == ETXTBSY)
		kt_ok(name);
	else if (r == -1 && r0 == -1 && e == e0)
		kt_fail(name, "a clone into a daxfile got the filesystem's own answer (%s), not the daxfile's ETXTBSY",
			kt_errname(e));
	else
		kt_fail(name, "a clone into a daxfile must be refused with ETXTBSY");
out:
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	unlink(sp);
	unlink(tp);
}

static void case_copy_range(struct fsctx *c)
{
	const char *name = cname("dc_copy_range", c);
	char sp[512];
	int64_t in = 0, out = 0;
	int sfd;
	long r;
	int e;
	if (need_static(name, c))
		return;
	kt_path(sp, sizeof(sp), c->dir, "daxrig_daxfile_copy_src");
	sfd = kt_make_file(sp, 65536, 0x44);
	if (sfd < 0) {
		kt_fail(name, "setup: %s", kt_errname(-sfd));
		return;
	}
	errno = 0;
	r = syscall(SYS_copy_file_range, sfd, &in, c->fd, &out, (size_t)PG, 0);
	e = errno;
	kt_diag("%s: copy_file_range into the daxfile = %s, want ETXTBSY", name, kt_rcstr(r, e));
	if (r == -1 && e == ETXTBSY)
		kt_ok(name);
	else
		kt_fail(name, "copy_file_range into a daxfile must be refused");
	close(sfd);
	unlink(sp);
}

/* a bind mount of the fs; the daxfile is made through it, so it pins that mount */
static void case_umount_busy(struct fsctx *c)
{
	const char *name = cname("dc_umount_busy", c);
	char mnt[512], bpath[700], rpath[512], base[64];
	int fd;
	long r1, r2 = -1, s;
	int e1, e2 = 0, se;
	if (need_static(name, c))
		return;
	kt_path(mnt, sizeof(mnt), c->dir, "daxrig_daxfile_bind");
	rmdir(mnt);
	if (mkdir(mnt, 0755) < 0 || mount(c->dir, mnt, NULL, MS_BIND, NULL) < 0) {
		kt_fail(name, "setup: bind mount %s on %s: %s", c->dir, mnt, kt_errname(errno));
		rmdir(mnt);
		return;
	}
	kt_path(rpath, sizeof(rpath), c->dir, "daxrig_daxfile_pin");
	snprintf(base, sizeof(base), "%s", strrchr(rpath, '/') + 1);
	snprintf(bpath, sizeof(bpath), "%s/%s", mnt, base);
	fd = kt_make_file(bpath, 65536, 0x66);
	if (fd < 0) {
		kt_fail(name, "setup: create %s: %s", bpath, kt_errname(-fd));
		goto out;
	}
	close(fd);
	errno = 0;
	s = daxctl_static(bpath, 0);
	if (s != 0) {
		kt_fail(name, "setup: daxctl(F_STATIC) through the bind mount: %s", kt_rcstr(s, errno));
		goto out;
	}
	track(rpath); /* clear through the real path if the bind mount goes away */
	errno = 0;
	r1 = umount2(mnt, 0);
	e1 = errno;
	if (r1 == 0) {
		kt_diag("%s: umount with an active daxfile = 0, want EBUSY", name);
		kt_fail(name, "the filesystem could be unmounted under an active daxfile");
		daxctl(rpath, 0, 0);
		goto out_unmounted;
	}
	errno = 0;
	s = daxctl(bpath, 0, 0);
	se = errno;
	errno = 0;
	r2 = umount2(mnt, 0);
	e2 = errno;
	kt_diag("%s: umount with an active daxfile = %s (want EBUSY); clear = %s, then umount = %s (want 0)",
		name, kt_rcstr(r1, e1), kt_rcstr(s, se), kt_rcstr(r2, e2));
	if (e1 == EBUSY && r2 == 0)
		kt_ok(name);
	else if (e1 == EBUSY)
		kt_fail(name, "umount stayed EBUSY after the daxfile was cleared: the EBUSY was not the daxfile's");
	else
		kt_fail(name, "unexpected result");
	if (r2 == 0)
		goto out_unmounted;
out:
	if (umount2(mnt, 0) < 0)
		umount2(mnt, MNT_DETACH);
out_unmounted:
	unlink(rpath);
	rmdir(mnt);
}

/*
 * The RFC refuses to make an active swapfile a daxfile (EBUSY), and checks IS_DAX first.  A kernel that
 * can swap on a DAX file shows the EBUSY rule directly.  6.1 cannot: swapon of a DAX file fails with
 * EINVAL (its address space has no ->read_folio), so no active swapfile is ever DAX and the rule has no
 * input to act on.  There the case checks what decides the order instead: the refused swapon must leave
 * nothing behind (F_STATIC -> 0), and once the file is a daxfile swapon must be refused with EBUSY, not
 * EINVAL, i.e. the daxfile is claimed before the filesystem's swap support is looked at.
 */
static void case_swapon_busy(struct fsctx *c)
{
	const char *name = cname("dc_swapon_busy", c);
	char sp[512];
	int sfd;
	long r, r2 = -1;
	int e, e2 = 0;
	if (need_dax(name, c))
		return;
	kt_path(sp, sizeof(sp), c->dir, "daxrig_daxfile_swap");
	sfd = make_swapfile(sp);
	if (sfd < 0) {
		kt_fail(name, "setup: create %s: %s", sp, kt_errname(-sfd));
		return;
	}
	errno = 0;
	r = syscall(SYS_swapon, sp, 0);
	e = errno;
	if (r == 0) {
		errno = 0;
		r = daxctl_static(sp, 0);
		e = errno;
		kt_diag("%s: F_STATIC on an active swapfile = %s, want EBUSY", name, kt_rcstr(r, e));
		if (r == -1 && e == EBUSY)
			kt_ok(name);
		else
			kt_fail(name, "unexpected result");
		if (syscall(SYS_swapoff, sp) < 0)
			kt_diag("swapoff %s: %s", sp, kt_errname(errno));
	} else if (e == EINVAL) {
		errno = 0;
		r = daxctl_static(sp, 0);
		e = errno;
		if (r == 0) {
			errno = 0;
			r2 = syscall(SYS_swapon, sp, 0);
			e2 = errno;
		}
		kt_diag("%s: swapon of a fresh %s DAX file = EINVAL (no active DAX swapfile can exist here, so the "
			"EBUSY rule is unreachable); then F_STATIC = %s (want 0), swapon of the daxfile = %s (want EBUSY)",
			name, c->fs, kt_rcstr(r, e), r == 0 ? kt_rcstr(r2, e2) : "not tried");
		if (r == 0 && r2 == -1 && e2 == EBUSY)
			kt_ok(name);
		else if (r != 0)
			kt_fail(name, "a refused swapon left the file unusable as a daxfile");
		else
			kt_fail(name, "swapon of a daxfile must be refused with EBUSY");
		if (r2 == 0 && syscall(SYS_swapoff, sp) < 0)
			kt_diag("swapoff %s: %s", sp, kt_errname(errno));
	} else {
		kt_skip(name, "swapon %s: %s (no swap support: CONFIG_SWAP off?)", sp, kt_errname(e));
	}
	if (r >= 0)
		daxctl(sp, 0, 0);
	close(sfd);
	unlink(sp);
}

static void case_clear(struct fsctx *c)
{
	const char *name = cname("dc_clear", c);
	long r, g, t;
	int e, ge, te;
	if (need_static(name, c))
		return;
	errno = 0;
	r = daxctl(c->path, 0, 0);
	e = errno;
	errno = 0;
	g = daxctl(c->path, DAXCTL_F_GET, 0);
	ge = errno;
	errno = 0;
	t = ftruncate(c->fd, (off_t)(FLEN / 2));
	te = errno;
	kt_diag("%s: flags 0 = %s, F_GET = %s, ftruncate = %s; want 0, 0, 0", name, kt_rcstr(r, e),
		kt_rcstr(g, ge), kt_rcstr(t, te));
	if (r == 0 && g == 0 && t == 0)
		kt_ok(name);
	else
		kt_fail(name, "the daxfile state was not cleared");
}

static void run_fs(struct fsctx *c)
{
	if (!need_dax(cname("dc_get_unpriv", c), c))
		unpriv_case(cname("dc_get_unpriv", c), c->path, DAXCTL_F_GET, 0, 0);
	if (!need_dax(cname("dc_nocap", c), c))
		unpriv_case(cname("dc_nocap", c), c->path, DAXCTL_F_STATIC, 0, EPERM);
	case_hole(c);
	case_badalign(c);
	case_misaligned(c);
	case_clear_nondaxfile(c);
	case_static_ok(c);
	case_idempotent(c);
	case_unpriv_clear(c);
	case_truncate(c);
	case_pwrite_inplace(c);
	case_mmap_write(c);
	case_unlink(c);
	case_rename(c);
	case_swapon_daxfile(c);
	case_ficlone(c);
	case_copy_range(c);
	case_umount_busy(c);
	case_swapon_busy(c);
	case_clear(c);
}

int main(void)
{
	struct fsctx fss[NFS] = {
		{ .fs = "ext4", .env = "DAXRIG_EXT4", .fd = -1 },
		{ .fs = "xfs", .env = "DAXRIG_XFS", .fd = -1 },
		/* the only one here that can reflink: dc_ficlone can tell the seal apart from "no reflink" */
		{ .fs = "xfs_reflink", .env = "DAXRIG_XFS_REFLINK", .fd = -1 },
	};
	long r;
	int e, i;

	kt_plan(NCASES);
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

	/* dc_nondax */
	if (!kt_gated("dc_nondax")) {
		const char *dirs[2] = { kt_env("DAXRIG_NODAX"), kt_env("DAXRIG_TMPFS") };
		char paths[2][512];
		const char *pp[2] = { NULL, NULL };
		int fds[2] = { -1, -1 };
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

	/* the file cases, once per DAX filesystem */
	for (i = 0; i < NFS; i++) {
		fss[i].dir = kt_env(fss[i].env);
		setup_fs(&fss[i]);
		run_fs(&fss[i]);
	}

	cleanup_all();
	for (i = 0; i < NFS; i++) {
		if (fss[i].fd < 0)
			continue;
		close(fss[i].fd);
		unlink(fss[i].path);
		if (fss[i].lnk[0])
			unlink(fss[i].lnk);
	}
	return kt_exit();
}
