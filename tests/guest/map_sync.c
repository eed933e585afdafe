/*
 * map_sync.c - MAP_SHARED_VALIDATE / MAP_SYNC matrix (docs/kernel-behaviour.md §1, §2).
 *
 * Expected values are the §4 table, identical on Debian 6.1 and 6.12 (and upstream):
 *
 *   flags                         ext4/xfs -o dax   ext4 dax=never   tmpfs
 *   MAP_SHARED                    OK                OK               OK
 *   MAP_SHARED_VALIDATE           OK                OK               OK
 *   MSV|MAP_SYNC                  OK                EOPNOTSUPP       EOPNOTSUPP
 *   MAP_SHARED|MAP_SYNC           OK                EOPNOTSUPP(quirk) OK (bit dropped)
 *   MAP_PRIVATE|MAP_SYNC          OK                EOPNOTSUPP(quirk) OK
 *   MSV|0x200000                  EOPNOTSUPP        EOPNOTSUPP       EOPNOTSUPP
 *   MAP_SHARED|0x200000           OK                OK               OK
 *   /dev/daxX.Y MSV|MAP_SYNC      OK
 *
 * Cases, per filesystem prefix P in {ext4, xfs, nodax, tmpfs}:
 *   P_statx_dax          statx STATX_ATTR_DAX is what the mount promises (1 for ext4/xfs, 0 otherwise).
 *                        ext4/xfs: a mount made with -o dax whose file reports DAX=0 is a FAIL here
 *                        (raw namespace, or XFS silently turned DAX off); every other ext4/xfs case
 *                        then SKIPs "DAX not active".
 *   P_shared, P_msv, P_msv_sync, P_shared_sync, P_private_sync, P_msv_unknown_bit, P_shared_unknown_bit
 *   P_sync_store         (ext4, xfs only) store through a MSV|MAP_SYNC mapping, msync, read back with pread
 * devdax ($DAXRIG_DEVDAX):
 *   devdax_msv_sync      MSV|MAP_SYNC mapping of one alignment unit
 *   devdax_sync_store    store through it (no msync: device-dax has no ->fsync, msync is EINVAL),
 *                        read back through a second mapping
 */
#include "ktap.h"

#define FILE_LEN (64 * 1024)

enum kind { K_DAX, K_NODAX, K_TMPFS };

struct fsdef {
	const char *prefix;
	const char *env;
	const char *missing;
	enum kind kind;
};

static const struct fsdef fss[] = {
	{ "ext4", "DAXRIG_EXT4", "no ext4-dax mount in this machine (DAXRIG_EXT4 unset)", K_DAX },
	{ "xfs", "DAXRIG_XFS", "no xfs-dax mount in this machine (DAXRIG_XFS unset)", K_DAX },
	{ "nodax", "DAXRIG_NODAX", "no non-DAX ext4 mount in this machine (DAXRIG_NODAX unset)", K_NODAX },
	{ "tmpfs", "DAXRIG_TMPFS", "no tmpfs directory in this machine (DAXRIG_TMPFS unset)", K_TMPFS },
};
#define NFS (int)(sizeof(fss) / sizeof(fss[0]))

struct row {
	const char *suffix;
	const char *desc;
	int flags;
	int want[3]; /* indexed by enum kind: 0 = success, else errno */
};

static const struct row rows[] = {
	{ "shared", "MAP_SHARED", MAP_SHARED, { 0, 0, 0 } },
	{ "msv", "MAP_SHARED_VALIDATE", MAP_SHARED_VALIDATE, { 0, 0, 0 } },
	{ "msv_sync", "MAP_SHARED_VALIDATE|MAP_SYNC", MAP_SHARED_VALIDATE | MAP_SYNC,
	  { 0, EOPNOTSUPP, EOPNOTSUPP } },
	/* quirk: VM_SYNC is computed before MAP_SHARED drops unknown bits, so non-DAX ext4 refuses */
	{ "shared_sync", "MAP_SHARED|MAP_SYNC", MAP_SHARED | MAP_SYNC, { 0, EOPNOTSUPP, 0 } },
	{ "private_sync", "MAP_PRIVATE|MAP_SYNC", MAP_PRIVATE | MAP_SYNC, { 0, EOPNOTSUPP, 0 } },
	{ "msv_unknown_bit", "MAP_SHARED_VALIDATE|0x200000", MAP_SHARED_VALIDATE | KT_MAP_UNKNOWN_BIT,
	  { EOPNOTSUPP, EOPNOTSUPP, EOPNOTSUPP } },
	{ "shared_unknown_bit", "MAP_SHARED|0x200000", MAP_SHARED | KT_MAP_UNKNOWN_BIT, { 0, 0, 0 } },
};
#define NROWS (int)(sizeof(rows) / sizeof(rows[0]))

static int ncases_fs(const struct fsdef *f)
{
	return 1 + NROWS + (f->kind == K_DAX ? 1 : 0);
}

static void cname(char *buf, size_t sz, const char *prefix, const char *suffix)
{
	snprintf(buf, sz, "%s_%s", prefix, suffix);
}

/* skip every case of one filesystem */
static void skip_fs(const struct fsdef *f, int from_statx, const char *fmt, const char *arg)
{
	char name[64];
	int i;
	if (from_statx) {
		cname(name, sizeof(name), f->prefix, "statx_dax");
		kt_skip(name, fmt, arg);
	}
	for (i = 0; i < NROWS; i++) {
		cname(name, sizeof(name), f->prefix, rows[i].suffix);
		kt_skip(name, fmt, arg);
	}
	if (f->kind == K_DAX) {
		cname(name, sizeof(name), f->prefix, "sync_store");
		kt_skip(name, fmt, arg);
	}
}

static void fail_fs(const struct fsdef *f, const char *msg)
{
	char name[64];
	int i;
	cname(name, sizeof(name), f->prefix, "statx_dax");
	kt_fail(name, "%s", msg);
	for (i = 0; i < NROWS; i++) {
		cname(name, sizeof(name), f->prefix, rows[i].suffix);
		kt_fail(name, "%s", msg);
	}
	if (f->kind == K_DAX) {
		cname(name, sizeof(name), f->prefix, "sync_store");
		kt_fail(name, "%s", msg);
	}
}

struct store_arg {
	int fd;
	size_t len;
	int flags;
	int devdax; /* read back through a second mapping instead of pread */
};

static int store_child(void *p)
{
	struct store_arg *a = p;
	unsigned char *m, *m2, buf[4096];
	size_t off;
	m = mmap(NULL, a->len, PROT_READ | PROT_WRITE, a->flags, a->fd, 0);
	if (m == MAP_FAILED) {
		kt_diag("mmap: %s", kt_rcstr(-1, errno));
		return 10;
	}
	for (off = 0; off < a->len; off += 4096)
		m[off] = (unsigned char)(0xa5 ^ (off >> 12));
	m[a->len - 1] = 0x5a;
	/* device-dax has no ->fsync: msync(MS_SYNC) is EINVAL there (observed on 6.12), and a
	 * MAP_SYNC devdax mapping needs no msync anyway */
	if (!a->devdax && msync(m, a->len, MS_SYNC) < 0) {
		kt_diag("msync: %s", kt_rcstr(-1, errno));
		return 11;
	}
	if (munmap(m, a->len) < 0) {
		kt_diag("munmap: %s", kt_rcstr(-1, errno));
		return 12;
	}
	if (a->devdax) {
		m2 = mmap(NULL, a->len, PROT_READ, MAP_SHARED, a->fd, 0);
		if (m2 == MAP_FAILED) {
			kt_diag("second mmap: %s", kt_rcstr(-1, errno));
			return 13;
		}
		for (off = 0; off < a->len; off += 4096)
			if (m2[off] != (unsigned char)(0xa5 ^ (off >> 12))) {
				kt_diag("readback mismatch at %zu", off);
				return 14;
			}
		if (m2[a->len - 1] != 0x5a) {
			kt_diag("readback mismatch at the last byte");
			return 14;
		}
		munmap(m2, a->len);
		return 0;
	}
	for (off = 0; off < a->len; off += 4096) {
		if (pread(a->fd, buf, 1, (off_t)off) != 1) {
			kt_diag("pread: %s", kt_rcstr(-1, errno));
			return 15;
		}
		if (buf[0] != (unsigned char)(0xa5 ^ (off >> 12))) {
			kt_diag("pread sees 0x%02x at %zu, stored 0x%02x", buf[0], off,
				(unsigned)(unsigned char)(0xa5 ^ (off >> 12)));
			return 14;
		}
	}
	if (pread(a->fd, buf, 1, (off_t)(a->len - 1)) != 1 || buf[0] != 0x5a) {
		kt_diag("pread mismatch at the last byte");
		return 14;
	}
	return 0;
}

static void report_store(const char *name, struct store_arg *a)
{
	struct kt_child c;
	if (kt_run_child(store_child, a, &c) < 0) {
		kt_fail(name, "fork: %s", kt_errname(errno));
		return;
	}
	if (c.exited && c.code == 0)
		kt_ok(name);
	else
		kt_fail(name, "store+msync through the MAP_SYNC mapping: child %s", kt_childstr(&c));
}

static void run_fs(const struct fsdef *f)
{
	const char *dir = kt_env(f->env);
	char path[512], name[64], msg[600];
	const char *how = "";
	int fd, dax, i;

	if (!dir) {
		skip_fs(f, 1, "%s", f->missing);
		return;
	}
	kt_path(path, sizeof(path), dir, "daxrig_map_sync");
	fd = kt_make_file(path, FILE_LEN, 0);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "setup: cannot create %s: %s", path, kt_errname(-fd));
		fail_fs(f, msg);
		return;
	}
	dax = kt_dax_probe(path, fd, &how);
	kt_diag("%s: %s: %s", f->prefix, path, how);

	/* P_statx_dax */
	cname(name, sizeof(name), f->prefix, "statx_dax");
	{
		struct kt_statx stx;
		int rc = kt_statx(path, &stx);
		if (rc == -ENOSYS)
			kt_skip(name, "statx not in this kernel (ENOSYS)");
		else if (rc < 0)
			kt_fail(name, "statx(%s): %s", path, kt_errname(-rc));
		else if (!(stx.stx_attributes_mask & KT_STATX_ATTR_DAX))
			kt_skip(name, "STATX_ATTR_DAX not reported by this kernel (before 5.8)");
		else if (f->kind == K_DAX) {
			if (stx.stx_attributes & KT_STATX_ATTR_DAX)
				kt_ok(name);
			else
				kt_fail(name, "mounted -o dax but STATX_ATTR_DAX=0: DAX not active "
					      "(raw namespace? XFS turned DAX off?)");
		} else {
			if (stx.stx_attributes & KT_STATX_ATTR_DAX)
				kt_fail(name, "control filesystem reports STATX_ATTR_DAX=1");
			else
				kt_ok(name);
		}
	}

	/* gate the assertions on the DAX state the table column assumes */
	if (f->kind == K_DAX && dax != 1) {
		snprintf(msg, sizeof(msg), "DAX not active (%s)", how);
		skip_fs(f, 0, "%s", msg);
		goto out;
	}
	if (f->kind == K_NODAX && dax == 1) {
		skip_fs(f, 0, "%s", "page-cache control unexpectedly has DAX active");
		goto out;
	}

	for (i = 0; i < NROWS; i++) {
		void *p;
		int err;
		cname(name, sizeof(name), f->prefix, rows[i].suffix);
		errno = 0;
		p = mmap(NULL, FILE_LEN, PROT_READ | PROT_WRITE, rows[i].flags, fd, 0);
		err = errno;
		kt_diag("%s: mmap(%s)", name, rows[i].desc);
		kt_expect(name, p == MAP_FAILED ? -1 : 0, err, rows[i].want[f->kind]);
		if (p != MAP_FAILED)
			munmap(p, FILE_LEN);
	}

	if (f->kind == K_DAX) {
		struct store_arg a = { fd, FILE_LEN, MAP_SHARED_VALIDATE | MAP_SYNC, 0 };
		cname(name, sizeof(name), f->prefix, "sync_store");
		report_store(name, &a);
	}
out:
	close(fd);
	unlink(path);
}

static void run_devdax(void)
{
	const char *dev = kt_env("DAXRIG_DEVDAX");
	char sys[256];
	const char *base;
	long align;
	int fd;
	void *p;
	int err;

	if (!dev) {
		kt_skip("devdax_msv_sync", "no device-dax node in this machine (DAXRIG_DEVDAX unset)");
		kt_skip("devdax_sync_store", "no device-dax node in this machine (DAXRIG_DEVDAX unset)");
		return;
	}
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		kt_fail("devdax_msv_sync", "setup: open %s: %s", dev, kt_errname(err));
		kt_fail("devdax_sync_store", "setup: open %s: %s", dev, kt_errname(err));
		return;
	}
	base = strrchr(dev, '/');
	base = base ? base + 1 : dev;
	snprintf(sys, sizeof(sys), "/sys/bus/dax/devices/%s/align", base);
	align = kt_read_num(sys);
	if (align <= 0) {
		kt_diag("devdax: cannot read %s, assuming 2 MiB", sys);
		align = 2L << 20;
	} else {
		kt_diag("devdax: %s align %ld", dev, align);
	}

	errno = 0;
	p = mmap(NULL, (size_t)align, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	err = errno;
	kt_diag("devdax_msv_sync: mmap(%ld, MAP_SHARED_VALIDATE|MAP_SYNC)", align);
	kt_expect("devdax_msv_sync", p == MAP_FAILED ? -1 : 0, err, 0);
	if (p != MAP_FAILED)
		munmap(p, (size_t)align);

	{
		struct store_arg a = { fd, (size_t)align, MAP_SHARED_VALIDATE | MAP_SYNC, 1 };
		report_store("devdax_sync_store", &a);
	}
	close(fd);
}

int main(void)
{
	int i, n = 2;
	for (i = 0; i < NFS; i++)
		n += ncases_fs(&fss[i]);
	kt_plan(n);
	for (i = 0; i < NFS; i++)
		run_fs(&fss[i]);
	run_devdax();
	return kt_exit();
}
