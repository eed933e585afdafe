/*
 * devdax.c - device-dax mmap rules (docs/kernel-behaviour.md §3), identical on Debian 6.1 and 6.12
 * and unchanged by the mmap_prepare series (§11.5, devdax port 2/16).
 *
 * A = alignment read from /sys/bus/dax/devices/<dev>/align (2 MiB by default).
 *   devdax_map_ok          mmap(A, MAP_SHARED, RW), store + load in a child   -> OK
 *   devdax_len_4k          mmap(4K)                                           -> EINVAL (SKIP if A == 4K)
 *   devdax_len_unaligned   mmap(A + A/2), e.g. 3M                             -> EINVAL (SKIP if A == 4K)
 *   devdax_off_4k          mmap(A) at file offset 4K                          -> EINVAL (SKIP if A == 4K)
 *   devdax_private         MAP_PRIVATE                                        -> EINVAL
 *   devdax_msv_sync        MAP_SHARED_VALIDATE|MAP_SYNC                       -> OK
 *   devdax_msv_unknown_bit MAP_SHARED_VALIDATE|0x200000                       -> EOPNOTSUPP [inferred, §4 rule]
 *   devdax_mremap_shrink   mremap an A*2 mapping down to A                    -> OK [inferred]
 * VFIO and io_uring on device-dax are in vfio_pin.c (vfio_map_devdax, uring_reg_devdax).
 */
#include "ktap.h"
#include <sys/mman.h>

static int fd = -1;
static long align;
static const char *dev;

struct touch_arg {
	size_t len;
	int flags;
};

static int touch_child(void *p)
{
	struct touch_arg *a = p;
	volatile unsigned char *m;
	size_t off;
	m = mmap(NULL, a->len, PROT_READ | PROT_WRITE, a->flags, fd, 0);
	if (m == MAP_FAILED)
		return kt_enc(-1, errno);
	for (off = 0; off < a->len; off += 4096)
		m[off] = (unsigned char)(off >> 12);
	for (off = 0; off < a->len; off += 4096)
		if (m[off] != (unsigned char)(off >> 12)) {
			kt_diag("readback mismatch at %zu", off);
			return 255;
		}
	munmap((void *)m, a->len);
	return 0;
}

static void map_case(const char *name, const char *desc, size_t len, int flags, off_t off, int want)
{
	void *p;
	int err;
	errno = 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);
	err = errno;
	kt_diag("%s: mmap(%s)", name, desc);
	kt_expect(name, p == MAP_FAILED ? -1 : 0, err, want);
	if (p != MAP_FAILED)
		munmap(p, len);
}

#define NCASES 8

int main(void)
{
	static const char *names[NCASES] = { "devdax_map_ok", "devdax_len_4k", "devdax_len_unaligned",
					     "devdax_off_4k", "devdax_private", "devdax_msv_sync",
					     "devdax_msv_unknown_bit", "devdax_mremap_shrink" };
	char desc[128];
	int i;

	kt_plan(NCASES);
	dev = kt_env("DAXRIG_DEVDAX");
	if (!dev) {
		for (i = 0; i < NCASES; i++)
			kt_skip(names[i], "no device-dax node in this machine (DAXRIG_DEVDAX unset)");
		return kt_exit();
	}
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		for (i = 0; i < NCASES; i++)
			kt_fail(names[i], "setup: open %s: %s", dev, kt_errname(e));
		return kt_exit();
	}
	align = kt_devdax_align(dev);
	kt_diag("%s: align %ld", dev, align);

	/* devdax_map_ok */
	{
		struct touch_arg a = { (size_t)align, MAP_SHARED };
		struct kt_child c;
		long rc;
		int err;
		if (kt_run_child(touch_child, &a, &c) < 0)
			kt_fail("devdax_map_ok", "fork: %s", kt_errname(errno));
		else if (c.exited && c.code == 0)
			kt_ok("devdax_map_ok");
		else if (kt_dec(&c, &rc, &err) == 0 && c.code != 255)
			kt_fail("devdax_map_ok", "mmap(%ld, MAP_SHARED): %s", align, kt_rcstr(rc, err));
		else
			kt_fail("devdax_map_ok", "store/load through the mapping: child %s", kt_childstr(&c));
	}

	if (align <= 4096) {
		kt_skip("devdax_len_4k", "device alignment is %ld: no sub-alignment length exists", align);
		kt_skip("devdax_len_unaligned", "device alignment is %ld: every length is aligned", align);
		kt_skip("devdax_off_4k", "device alignment is %ld: every offset is aligned", align);
	} else {
		map_case("devdax_len_4k", "4096, MAP_SHARED", 4096, MAP_SHARED, 0, EINVAL);
		snprintf(desc, sizeof(desc), "%ld, MAP_SHARED", align + align / 2);
		map_case("devdax_len_unaligned", desc, (size_t)(align + align / 2), MAP_SHARED, 0, EINVAL);
		snprintf(desc, sizeof(desc), "%ld, MAP_SHARED, offset 4096", align);
		map_case("devdax_off_4k", desc, (size_t)align, MAP_SHARED, 4096, EINVAL);
	}
	snprintf(desc, sizeof(desc), "%ld, MAP_PRIVATE", align);
	map_case("devdax_private", desc, (size_t)align, MAP_PRIVATE, 0, EINVAL);
	snprintf(desc, sizeof(desc), "%ld, MAP_SHARED_VALIDATE|MAP_SYNC", align);
	map_case("devdax_msv_sync", desc, (size_t)align, MAP_SHARED_VALIDATE | MAP_SYNC, 0, 0);
	snprintf(desc, sizeof(desc), "%ld, MAP_SHARED_VALIDATE|0x200000", align);
	map_case("devdax_msv_unknown_bit", desc, (size_t)align, MAP_SHARED_VALIDATE | KT_MAP_UNKNOWN_BIT, 0,
		 EOPNOTSUPP);

	/* devdax_mremap_shrink: needs a device of at least 2 alignment units */
	{
		void *p, *q;
		int err;
		errno = 0;
		p = mmap(NULL, (size_t)align * 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			kt_skip("devdax_mremap_shrink", "cannot map 2 alignment units (%s): device too small?",
				kt_errname(errno));
		} else {
			q = mremap(p, (size_t)align * 2, (size_t)align, 0);
			err = errno;
			kt_diag("devdax_mremap_shrink: mremap(%ld -> %ld)", align * 2, align);
			kt_expect("devdax_mremap_shrink", q == MAP_FAILED ? -1 : 0, err, 0);
			munmap(p, q == MAP_FAILED ? (size_t)align * 2 : (size_t)align);
		}
	}
	close(fd);
	return kt_exit();
}
