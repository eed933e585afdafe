/*
 * vfio_pin.c - long-term pinning of fsdax memory (docs/kernel-behaviour.md §4).
 *
 * The vfio/dax series (v5 12/12, upstream 94db151dc892) is merged: its behaviour IS the
 * baseline. A regressing patch or a revert makes the vfio_map_fsdax* cases fail.
 *
 * VFIO cases (identical on 6.1 and 6.12):
 *   vfio_setup             container + group + VFIO_SET_IOMMU(TYPE1v2) = 0; otherwise SKIP
 *                          (no pin test means anything without a real IOMMU domain, §6.6)
 *   vfio_map_anon          MAP_DMA of anonymous memory                 -> 0 (control)
 *   vfio_map_tmpfs         MAP_DMA of a MAP_SHARED tmpfs file          -> 0 (control)
 *   vfio_map_fsdax         MAP_DMA R|W of a MAP_SHARED rw ext4-dax map -> EOPNOTSUPP [boot]
 *   vfio_map_fsdax_ro      MAP_DMA R of a PROT_READ ext4-dax map       -> EOPNOTSUPP [inferred:
 *                          FOLL_LONGTERM without FOLL_WRITE hits the same check_vma_flags test]
 *   vfio_map_fsdax_xfs     same as vfio_map_fsdax on xfs-dax           -> EOPNOTSUPP [inferred]
 *   vfio_map_fsdax_xfs_ro  same as vfio_map_fsdax_ro on xfs-dax        -> EOPNOTSUPP [inferred]
 *   vfio_map_devdax        MAP_DMA of a /dev/daxX.Y mapping            -> 0 (device-dax is exempt)
 *
 * io_uring IORING_REGISTER_BUFFERS cases (§8). Where 6.1 and 6.12 differ, pass/fail follows
 * the UPSTREAM/6.12 rule and the comment at the case says what 6.1 does, so a 6.1 variant
 * marks that case `fail`.
 */
#include "ktap.h"
#include <sys/ioctl.h>
#include <sys/uio.h>

/* ---- VFIO uapi (include/uapi/linux/vfio.h) ---- */
#define DR_VFIO_TYPE ';'
#define DR_VFIO_BASE 100
#define DR_VFIO_GET_API_VERSION _IO(DR_VFIO_TYPE, DR_VFIO_BASE + 0)
#define DR_VFIO_CHECK_EXTENSION _IO(DR_VFIO_TYPE, DR_VFIO_BASE + 1)
#define DR_VFIO_SET_IOMMU _IO(DR_VFIO_TYPE, DR_VFIO_BASE + 2)
#define DR_VFIO_GROUP_GET_STATUS _IO(DR_VFIO_TYPE, DR_VFIO_BASE + 3)
#define DR_VFIO_GROUP_SET_CONTAINER _IO(DR_VFIO_TYPE, DR_VFIO_BASE + 4)
#define DR_VFIO_IOMMU_MAP_DMA _IO(DR_VFIO_TYPE, DR_VFIO_BASE + 13)
#define DR_VFIO_IOMMU_UNMAP_DMA _IO(DR_VFIO_TYPE, DR_VFIO_BASE + 14)
#define DR_VFIO_API_VERSION 0
#define DR_VFIO_TYPE1_IOMMU 1
#define DR_VFIO_TYPE1v2_IOMMU 3
#define DR_VFIO_GROUP_FLAGS_VIABLE (1 << 0)
#define DR_VFIO_DMA_MAP_FLAG_READ (1 << 0)
#define DR_VFIO_DMA_MAP_FLAG_WRITE (1 << 1)

struct dr_vfio_group_status {
	uint32_t argsz;
	uint32_t flags;
};
struct dr_vfio_dma_map {
	uint32_t argsz;
	uint32_t flags;
	uint64_t vaddr;
	uint64_t iova;
	uint64_t size;
};
struct dr_vfio_dma_unmap {
	uint32_t argsz;
	uint32_t flags;
	uint64_t iova;
	uint64_t size;
};

/* ---- io_uring uapi ---- */
#define DR_IORING_REGISTER_BUFFERS 0
struct dr_io_uring_params { /* struct io_uring_params, 120 bytes; all zero is a valid request */
	uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd;
	uint32_t resv[3];
	uint32_t sq_off[10];
	uint32_t cq_off[10];
};

#define BUF_LEN (2UL << 20)

/* ---- memory sources ---- */
enum src { S_ANON, S_TMPFS, S_MEMFD, S_EXT4, S_XFS, S_NODAX, S_DEVDAX };

struct mapping {
	void *p;
	size_t len;
	int fd;
	char path[512];
};

/*
 * Map BUF_LEN (or the devdax alignment) of a source. Returns 0 ok, 1 = SKIP (why filled),
 * -1 = FAIL (why filled: a setup error the rig should have prevented).
 */
static int get_mapping(enum src s, int prot, int mflags, struct mapping *m, char *why, size_t wsz)
{
	const char *env = NULL, *how = "";
	int dax;
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->len = BUF_LEN;
	switch (s) {
	case S_ANON:
		m->p = mmap(NULL, m->len, prot, mflags | MAP_ANONYMOUS, -1, 0);
		if (m->p == MAP_FAILED) {
			snprintf(why, wsz, "setup: anonymous mmap: %s", kt_errname(errno));
			return -1;
		}
		return 0;
	case S_MEMFD:
		m->fd = (int)syscall(SYS_memfd_create, "daxrig_vfio_pin", 0);
		if (m->fd < 0) {
			snprintf(why, wsz, "memfd_create not available (%s)", kt_errname(errno));
			return 1;
		}
		if (ftruncate(m->fd, (off_t)m->len) < 0) {
			snprintf(why, wsz, "setup: ftruncate memfd: %s", kt_errname(errno));
			close(m->fd);
			return -1;
		}
		goto map;
	case S_DEVDAX:
		env = kt_env("DAXRIG_DEVDAX");
		if (!env) {
			snprintf(why, wsz, "no device-dax node in this machine (DAXRIG_DEVDAX unset)");
			return 1;
		}
		m->fd = open(env, O_RDWR | O_CLOEXEC);
		if (m->fd < 0) {
			snprintf(why, wsz, "setup: open %s: %s", env, kt_errname(errno));
			return -1;
		}
		m->len = (size_t)kt_devdax_align(env);
		goto map;
	case S_TMPFS:
		env = kt_env("DAXRIG_TMPFS");
		if (!env) {
			snprintf(why, wsz, "no tmpfs directory in this machine (DAXRIG_TMPFS unset)");
			return 1;
		}
		break;
	case S_EXT4:
		env = kt_env("DAXRIG_EXT4");
		if (!env) {
			snprintf(why, wsz, "no ext4-dax mount in this machine (DAXRIG_EXT4 unset)");
			return 1;
		}
		break;
	case S_XFS:
		env = kt_env("DAXRIG_XFS");
		if (!env) {
			snprintf(why, wsz, "no xfs-dax mount in this machine (DAXRIG_XFS unset)");
			return 1;
		}
		break;
	case S_NODAX:
		env = kt_env("DAXRIG_NODAX");
		if (!env) {
			snprintf(why, wsz, "no non-DAX ext4 mount in this machine (DAXRIG_NODAX unset)");
			return 1;
		}
		break;
	}
	kt_path(m->path, sizeof(m->path), env, "daxrig_vfio_pin");
	m->fd = kt_make_file(m->path, m->len, 0);
	if (m->fd < 0) {
		snprintf(why, wsz, "setup: create %s: %s", m->path, kt_errname(-m->fd));
		m->path[0] = 0;
		return -1;
	}
	if (s == S_EXT4 || s == S_XFS || s == S_NODAX) {
		dax = kt_dax_probe(m->path, m->fd, &how);
		if ((s != S_NODAX && dax != 1) || (s == S_NODAX && dax == 1)) {
			snprintf(why, wsz, s == S_NODAX ? "page-cache control has DAX active (%s)" :
							  "DAX not active (%s)", how);
			close(m->fd);
			unlink(m->path);
			return 1;
		}
	}
map:
	m->p = mmap(NULL, m->len, prot, mflags, m->fd, 0);
	if (m->p == MAP_FAILED) {
		snprintf(why, wsz, "setup: mmap: %s", kt_errname(errno));
		close(m->fd);
		if (m->path[0])
			unlink(m->path);
		return -1;
	}
	return 0;
}

static void put_mapping(struct mapping *m)
{
	if (m->p && m->p != MAP_FAILED)
		munmap(m->p, m->len);
	if (m->fd >= 0)
		close(m->fd);
	if (m->path[0])
		unlink(m->path);
}

/* ---- VFIO ---- */
static int container = -1, group = -1;
static char vfio_why[512];

static int vfio_setup(void)
{
	const char *gpath = kt_env("DAXRIG_VFIO_GROUP");
	const char *gnum;
	char sys[256];
	struct dr_vfio_group_status st = { sizeof(st), 0 };
	long r;

	if (!gpath) {
		snprintf(vfio_why, sizeof(vfio_why), "no vfio group in this machine (DAXRIG_VFIO_GROUP unset)");
		return -1;
	}
	gnum = strrchr(gpath, '/');
	gnum = gnum ? gnum + 1 : gpath;
	if (!strncmp(gnum, "noiommu-", 8)) {
		snprintf(vfio_why, sizeof(vfio_why), "%s is a noiommu group: no IOMMU domain, pins prove nothing", gpath);
		return -1;
	}
	snprintf(sys, sizeof(sys), "/sys/kernel/iommu_groups/%s", gnum);
	if (access(sys, F_OK) < 0) {
		snprintf(vfio_why, sizeof(vfio_why), "no IOMMU group %s (%s: %s)", gnum, sys, kt_errname(errno));
		return -1;
	}
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0) {
		snprintf(vfio_why, sizeof(vfio_why), "VFIO not available (/dev/vfio/vfio: %s)", kt_errname(errno));
		return -1;
	}
	r = ioctl(container, DR_VFIO_GET_API_VERSION);
	if (r != DR_VFIO_API_VERSION) {
		snprintf(vfio_why, sizeof(vfio_why), "VFIO_GET_API_VERSION returned %s", kt_rcstr(r, errno));
		return -1;
	}
	r = ioctl(container, DR_VFIO_CHECK_EXTENSION, DR_VFIO_TYPE1v2_IOMMU);
	if (r != 1) {
		snprintf(vfio_why, sizeof(vfio_why), "VFIO_CHECK_EXTENSION(TYPE1v2) returned %s", kt_rcstr(r, errno));
		return -1;
	}
	group = open(gpath, O_RDWR | O_CLOEXEC);
	if (group < 0) {
		snprintf(vfio_why, sizeof(vfio_why), "cannot open vfio group %s: %s", gpath, kt_errname(errno));
		return -1;
	}
	r = ioctl(group, DR_VFIO_GROUP_GET_STATUS, &st);
	if (r < 0 || !(st.flags & DR_VFIO_GROUP_FLAGS_VIABLE)) {
		snprintf(vfio_why, sizeof(vfio_why), "vfio group %s not viable (GET_STATUS %s, flags 0x%x)", gpath,
			 kt_rcstr(r, errno), st.flags);
		return -1;
	}
	r = ioctl(group, DR_VFIO_GROUP_SET_CONTAINER, &container);
	if (r < 0) {
		snprintf(vfio_why, sizeof(vfio_why), "VFIO_GROUP_SET_CONTAINER: %s", kt_rcstr(r, errno));
		return -1;
	}
	r = ioctl(container, DR_VFIO_SET_IOMMU, DR_VFIO_TYPE1v2_IOMMU);
	if (r < 0) {
		snprintf(vfio_why, sizeof(vfio_why),
			 "no IOMMU domain: VFIO_SET_IOMMU(TYPE1v2) %s (EPERM: intremap=off without "
			 "allow_unsafe_interrupts)", kt_rcstr(r, errno));
		return -1;
	}
	return 0;
}

static uint64_t next_iova = 0x100000;

static void vfio_case(const char *name, enum src s, int prot, int mflags, uint32_t dmaflags, int want)
{
	struct mapping m;
	char why[600];
	struct dr_vfio_dma_map map;
	int rc, err;

	if (container < 0 || group < 0) {
		kt_skip(name, "VFIO unusable: %s", vfio_why);
		return;
	}
	rc = get_mapping(s, prot, mflags | MAP_POPULATE, &m, why, sizeof(why));
	if (rc > 0) {
		kt_skip(name, "%s", why);
		return;
	}
	if (rc < 0) {
		kt_fail(name, "%s", why);
		return;
	}
	memset(&map, 0, sizeof(map));
	map.argsz = sizeof(map);
	map.flags = dmaflags;
	map.vaddr = (uint64_t)(uintptr_t)m.p;
	map.iova = next_iova;
	map.size = m.len;
	next_iova += 0x40000000ULL; /* 1 GiB apart: never overlaps, whatever the devdax alignment */
	errno = 0;
	rc = ioctl(container, DR_VFIO_IOMMU_MAP_DMA, &map);
	err = errno;
	kt_diag("%s: VFIO_IOMMU_MAP_DMA flags 0x%x size %zu", name, dmaflags, m.len);
	kt_expect(name, rc, err, want);
	if (rc == 0) {
		struct dr_vfio_dma_unmap un = { sizeof(un), 0, map.iova, map.size };
		if (ioctl(container, DR_VFIO_IOMMU_UNMAP_DMA, &un) < 0)
			kt_diag("%s: VFIO_IOMMU_UNMAP_DMA: %s", name, kt_errname(errno));
	}
	put_mapping(&m);
}

/* ---- io_uring ---- */
static char uring_why[256];

static int uring_new(void)
{
	struct dr_io_uring_params p;
	long fd;
	memset(&p, 0, sizeof(p));
	fd = syscall(SYS_io_uring_setup, 1, &p);
	if (fd < 0) {
		int e = errno;
		if (e == ENOSYS)
			snprintf(uring_why, sizeof(uring_why), "io_uring not in this kernel (ENOSYS)");
		else if (e == EPERM)
			snprintf(uring_why, sizeof(uring_why),
				 "io_uring disabled (io_uring_setup EPERM, kernel.io_uring_disabled=%ld)",
				 kt_read_num("/proc/sys/kernel/io_uring_disabled"));
		else
			snprintf(uring_why, sizeof(uring_why), "io_uring_setup failed: %s", kt_errname(e));
		return -1;
	}
	return (int)fd;
}

static void uring_case(const char *name, enum src s, int mflags, int want, const char *note)
{
	struct mapping m;
	char why[600];
	struct iovec iov;
	int ring, rc, err;

	ring = uring_new();
	if (ring < 0) {
		kt_skip(name, "%s", uring_why);
		return;
	}
	/*
	 * No MAP_POPULATE here: a prefaulted MAP_PRIVATE fsdax mapping holds anonymous COW pages,
	 * and 6.12's GUP-fast pins those without ever looking at the vma (observed: 0 instead of
	 * EOPNOTSUPP). The §8 table is for untouched mappings, which take the slow path.
	 * VFIO always pins through the slow path (pin_user_pages_remote), so it may prefault.
	 */
	rc = get_mapping(s, PROT_READ | PROT_WRITE, mflags, &m, why, sizeof(why));
	if (rc > 0) {
		kt_skip(name, "%s", why);
		close(ring);
		return;
	}
	if (rc < 0) {
		kt_fail(name, "%s", why);
		close(ring);
		return;
	}
	iov.iov_base = m.p;
	iov.iov_len = m.len;
	errno = 0;
	rc = (int)syscall(SYS_io_uring_register, ring, DR_IORING_REGISTER_BUFFERS, &iov, 1);
	err = errno;
	if (note)
		kt_diag("%s: %s", name, note);
	kt_expect(name, rc, err, want);
	close(ring); /* drops the registration */
	put_mapping(&m);
}

int main(void)
{
	const int RW = PROT_READ | PROT_WRITE;
	const uint32_t DRW = DR_VFIO_DMA_MAP_FLAG_READ | DR_VFIO_DMA_MAP_FLAG_WRITE;

	kt_plan(19);

	if (vfio_setup() == 0) {
		kt_diag("vfio_setup: container + %s, VFIO_SET_IOMMU(TYPE1v2) = 0", kt_env("DAXRIG_VFIO_GROUP"));
		kt_ok("vfio_setup");
	} else {
		kt_skip("vfio_setup", "%s", vfio_why);
		if (container >= 0)
			close(container);
		if (group >= 0)
			close(group);
		container = group = -1;
	}
	/* all VFIO rows: identical on 6.1 and 6.12 */
	vfio_case("vfio_map_anon", S_ANON, RW, MAP_PRIVATE, DRW, 0);
	vfio_case("vfio_map_tmpfs", S_TMPFS, RW, MAP_SHARED, DRW, 0);
	vfio_case("vfio_map_fsdax", S_EXT4, RW, MAP_SHARED, DRW, EOPNOTSUPP);
	vfio_case("vfio_map_fsdax_ro", S_EXT4, PROT_READ, MAP_SHARED, DR_VFIO_DMA_MAP_FLAG_READ, EOPNOTSUPP);
	vfio_case("vfio_map_fsdax_xfs", S_XFS, RW, MAP_SHARED, DRW, EOPNOTSUPP);
	vfio_case("vfio_map_fsdax_xfs_ro", S_XFS, PROT_READ, MAP_SHARED, DR_VFIO_DMA_MAP_FLAG_READ, EOPNOTSUPP);
	vfio_case("vfio_map_devdax", S_DEVDAX, RW, MAP_SHARED, DRW, 0);

	/* controls: 0 on 6.1 and 6.12 */
	uring_case("uring_reg_anon", S_ANON, MAP_PRIVATE, 0, NULL);
	uring_case("uring_reg_tmpfs", S_TMPFS, MAP_SHARED, 0, NULL);
	uring_case("uring_reg_memfd", S_MEMFD, MAP_SHARED, 0, NULL);
	/* fsdax: EOPNOTSUPP on 6.1 (io_uring's own file-vma check + GUP) and 6.12 (GUP check_vma_flags) */
	uring_case("uring_reg_fsdax_shared", S_EXT4, MAP_SHARED, EOPNOTSUPP, NULL);
	uring_case("uring_reg_fsdax_private", S_EXT4, MAP_PRIVATE, EOPNOTSUPP, NULL);
	/* xfs: same as ext4 on both kernels [inferred: same GUP path] */
	uring_case("uring_reg_fsdax_xfs_shared", S_XFS, MAP_SHARED, EOPNOTSUPP, NULL);
	uring_case("uring_reg_fsdax_xfs_private", S_XFS, MAP_PRIVATE, EOPNOTSUPP, NULL);
	/* KERNELS DIFFER: 6.1 EOPNOTSUPP (io_uring rejects non-shmem file vmas);
	 * 6.12/upstream EFAULT (writable_file_mapping_allowed). Pass = 6.12 rule. */
	uring_case("uring_reg_pagecache_shared", S_NODAX, MAP_SHARED, EFAULT,
		   "6.1 gives EOPNOTSUPP, 6.12/upstream EFAULT; pass follows 6.12");
	/* KERNELS DIFFER: 6.1 EOPNOTSUPP; 6.12/upstream 0 (FOLL_WRITE breaks COW into anon pages). */
	uring_case("uring_reg_pagecache_private", S_NODAX, MAP_PRIVATE, 0,
		   "6.1 gives EOPNOTSUPP, 6.12/upstream 0; pass follows 6.12");
	/* KERNELS DIFFER: 6.1 EOPNOTSUPP (file vma, not shmem/hugetlb); 6.12/upstream 0 (devdax exempt). */
	uring_case("uring_reg_devdax", S_DEVDAX, MAP_SHARED, 0,
		   "6.1 gives EOPNOTSUPP, 6.12/upstream 0; pass follows 6.12");
	/* MAP_SHARED|MAP_ANONYMOUS (shmem-backed): 0 on 6.1 (shmem allowed) and 6.12 (not dirty-tracked) */
	uring_case("uring_reg_anon_shared", S_ANON, MAP_SHARED, 0, NULL);

	if (container >= 0)
		close(container);
	if (group >= 0)
		close(group);
	return kt_exit();
}
