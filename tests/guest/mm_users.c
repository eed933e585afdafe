/*
 * mm_users.c - mmap baselines of the users the mmap_prepare series ports (docs/kernel-behaviour.md §5).
 * ABI-stable: identical on Debian 6.1 and 6.12, and the same with the series applied.
 *
 *   memfd_map_write         memfd, MAP_SHARED RW + store                         -> OK
 *   memfd_sealed_write_map  F_SEAL_WRITE, then MAP_SHARED RW                     -> EPERM
 *   memfd_sealed_ro_map     sealed, MAP_SHARED PROT_READ                         -> OK
 *   shmem_anon_shared       MAP_SHARED|MAP_ANONYMOUS + store (shmem_zero_setup)  -> OK
 *   hugetlb_map_write       memfd(MFD_HUGETLB), 2M MAP_SHARED + store            -> OK   (needs DAXRIG_HUGEPAGES)
 *   hugetlb_off_4k          same, file offset 4K                                 -> EINVAL
 *   devmem_map_ro           /dev/mem offset 0, 2 pages, PROT_READ, MAP_SHARED    -> OK
 *   devmem_madv_dontneed    madvise(MADV_DONTNEED) on it                         -> EINVAL
 *   devmem_mremap_grow      mremap 2 -> 4 pages (MAYMOVE)                        -> EFAULT
 *   devmem_mremap_shrink    mremap 2 -> 1 page                                   -> OK
 *   devmem_ram_16m          offset 16M (RAM) with STRICT_DEVMEM                  -> EPERM
 *   devmem_private          MAP_PRIVATE offset 0                                 -> OK
 *   devzero_shared          /dev/zero MAP_SHARED RW + store                      -> OK
 *   devzero_private         /dev/zero MAP_PRIVATE RW + store                     -> OK
 *   relay_blktrace_mmap     BLKTRACESETUP on $DAXRIG_PMEM, mmap debugfs trace0   -> ENODEV (debugfs
 *                           full-proxy fops have no .mmap); SKIP without debugfs or DAXRIG_PMEM
 *   kcov_mmap               KCOV_INIT_TRACE + mmap                               -> OK; SKIP when kcov
 *                           is absent (Debian: CONFIG_KCOV unset -> ENOENT)
 */
#include "ktap.h"
#include <sys/ioctl.h>

#define PG 4096UL
#define HPAGE (2UL << 20)

#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#endif
#ifndef F_SEAL_WRITE
#define F_SEAL_WRITE 0x0008
#endif

struct dr_blk_user_trace_setup {
	char name[32];
	uint16_t act_mask;
	uint32_t buf_size;
	uint32_t buf_nr;
	uint64_t start_lba;
	uint64_t end_lba;
	uint32_t pid;
};
#define DR_BLKTRACESETUP _IOWR(0x12, 115, struct dr_blk_user_trace_setup)
#define DR_BLKTRACETEARDOWN _IO(0x12, 118)
#define DR_KCOV_INIT_TRACE _IOR('c', 1, unsigned long)

/* ---- map (+ store) in a child ---- */
struct mc {
	int fd;
	size_t len;
	int prot, flags;
	off_t off;
	int store;
};

static int map_child(void *p)
{
	struct mc *a = p;
	volatile unsigned char *m;
	size_t o;
	m = mmap(NULL, a->len, a->prot, a->flags, a->fd, a->off);
	if (m == MAP_FAILED)
		return kt_enc(-1, errno);
	if (a->store) {
		for (o = 0; o < a->len; o += PG)
			m[o] = 0x5a;
		for (o = 0; o < a->len; o += PG)
			if (m[o] != 0x5a)
				return 63; /* readback mismatch */
	} else {
		(void)m[0];
	}
	return 0;
}

static void map_case(const char *name, const char *desc, struct mc *a, int want)
{
	struct kt_child c;
	long rc;
	int err;
	kt_diag("%s: %s", name, desc);
	if (kt_run_child(map_child, a, &c) < 0) {
		kt_fail(name, "fork: %s", kt_errname(errno));
		return;
	}
	if (c.exited && c.code == 63) {
		kt_fail(name, "stored data did not read back");
		return;
	}
	if (kt_dec(&c, &rc, &err) < 0) {
		kt_fail(name, "child %s (mapping or access faulted)", kt_childstr(&c));
		return;
	}
	kt_expect(name, rc, err, want);
}

static void memfd_cases(void)
{
	struct mc a;
	int fd = (int)syscall(SYS_memfd_create, "daxrig_mm_users", MFD_ALLOW_SEALING);
	int e = errno;
	if (fd < 0) {
		kt_skip("memfd_map_write", "memfd_create not in this kernel (%s)", kt_errname(e));
		kt_skip("memfd_sealed_write_map", "memfd_create not in this kernel (%s)", kt_errname(e));
		kt_skip("memfd_sealed_ro_map", "memfd_create not in this kernel (%s)", kt_errname(e));
		return;
	}
	if (ftruncate(fd, 4 * PG) < 0) {
		e = errno;
		kt_fail("memfd_map_write", "setup: ftruncate: %s", kt_errname(e));
		kt_fail("memfd_sealed_write_map", "setup: ftruncate: %s", kt_errname(e));
		kt_fail("memfd_sealed_ro_map", "setup: ftruncate: %s", kt_errname(e));
		close(fd);
		return;
	}
	a = (struct mc){ fd, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 1 };
	map_case("memfd_map_write", "memfd MAP_SHARED RW + store", &a, 0);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) < 0) {
		e = errno;
		kt_fail("memfd_sealed_write_map", "setup: F_ADD_SEALS(F_SEAL_WRITE): %s", kt_errname(e));
		kt_fail("memfd_sealed_ro_map", "setup: F_ADD_SEALS(F_SEAL_WRITE): %s", kt_errname(e));
		close(fd);
		return;
	}
	a = (struct mc){ fd, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 0 };
	map_case("memfd_sealed_write_map", "F_SEAL_WRITE memfd, MAP_SHARED RW", &a, EPERM);
	a = (struct mc){ fd, 4 * PG, PROT_READ, MAP_SHARED, 0, 0 };
	map_case("memfd_sealed_ro_map", "F_SEAL_WRITE memfd, MAP_SHARED PROT_READ", &a, 0);
	close(fd);
}

static void hugetlb_cases(void)
{
	long want = kt_env_num("DAXRIG_HUGEPAGES");
	long have = kt_read_num("/proc/sys/vm/nr_hugepages");
	struct mc a;
	int fd, e;
	if (want <= 0) {
		kt_skip("hugetlb_map_write", "no hugepages reserved in this machine (DAXRIG_HUGEPAGES unset)");
		kt_skip("hugetlb_off_4k", "no hugepages reserved in this machine (DAXRIG_HUGEPAGES unset)");
		return;
	}
	if (have <= 0) {
		kt_skip("hugetlb_map_write", "nr_hugepages is %ld: reservation of %ld not accepted", have, want);
		kt_skip("hugetlb_off_4k", "nr_hugepages is %ld: reservation of %ld not accepted", have, want);
		return;
	}
	fd = (int)syscall(SYS_memfd_create, "daxrig_hugetlb", MFD_HUGETLB);
	if (fd < 0) {
		e = errno;
		kt_skip("hugetlb_map_write", "memfd_create(MFD_HUGETLB): %s (hugetlbfs not in this kernel?)",
			kt_errname(e));
		kt_skip("hugetlb_off_4k", "memfd_create(MFD_HUGETLB): %s (hugetlbfs not in this kernel?)",
			kt_errname(e));
		return;
	}
	if (ftruncate(fd, (off_t)HPAGE) < 0) {
		e = errno;
		kt_fail("hugetlb_map_write", "setup: ftruncate 2M: %s", kt_errname(e));
		kt_fail("hugetlb_off_4k", "setup: ftruncate 2M: %s", kt_errname(e));
		close(fd);
		return;
	}
	a = (struct mc){ fd, HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 1 };
	map_case("hugetlb_map_write", "MFD_HUGETLB memfd, 2M MAP_SHARED RW + store", &a, 0);
	a = (struct mc){ fd, HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, (off_t)PG, 0 };
	map_case("hugetlb_off_4k", "MFD_HUGETLB memfd, 2M at offset 4K", &a, EINVAL);
	close(fd);
}

static void devmem_cases(void)
{
	static const char *names[] = { "devmem_map_ro", "devmem_madv_dontneed", "devmem_mremap_grow",
				       "devmem_mremap_shrink", "devmem_ram_16m", "devmem_private" };
	int fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	void *p, *q;
	int e, i;
	struct mc a;
	if (fd < 0) {
		e = errno;
		for (i = 0; i < 6; i++)
			kt_skip(names[i], "/dev/mem not available (%s)", kt_errname(e));
		return;
	}
	/* map_ro: mapping + one read; in a child in case reading low memory faults */
	a = (struct mc){ fd, 2 * PG, PROT_READ, MAP_SHARED, 0, 0 };
	map_case("devmem_map_ro", "/dev/mem offset 0, 2 pages, PROT_READ MAP_SHARED", &a, 0);

	/* the remaining calls never touch the memory: run them here */
	errno = 0;
	p = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		e = errno;
		kt_fail("devmem_madv_dontneed", "setup: mmap /dev/mem: %s", kt_errname(e));
		kt_fail("devmem_mremap_grow", "setup: mmap /dev/mem: %s", kt_errname(e));
		kt_fail("devmem_mremap_shrink", "setup: mmap /dev/mem: %s", kt_errname(e));
	} else {
		errno = 0;
		i = madvise(p, 2 * PG, MADV_DONTNEED);
		kt_expect("devmem_madv_dontneed", i, errno, EINVAL);
		errno = 0;
		q = mremap(p, 2 * PG, 4 * PG, MREMAP_MAYMOVE);
		e = errno;
		kt_expect("devmem_mremap_grow", q == MAP_FAILED ? -1 : 0, e, EFAULT);
		if (q != MAP_FAILED)
			p = q;
		errno = 0;
		q = mremap(p, q != MAP_FAILED ? 4 * PG : 2 * PG, PG, 0);
		e = errno;
		kt_expect("devmem_mremap_shrink", q == MAP_FAILED ? -1 : 0, e, 0);
		munmap(p, q == MAP_FAILED ? 2 * PG : PG);
	}
	errno = 0;
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 16L << 20);
	e = errno;
	kt_diag("devmem_ram_16m: /dev/mem offset 16M (RAM), STRICT_DEVMEM");
	kt_expect("devmem_ram_16m", p == MAP_FAILED ? -1 : 0, e, EPERM);
	if (p != MAP_FAILED)
		munmap(p, PG);
	a = (struct mc){ fd, 2 * PG, PROT_READ, MAP_PRIVATE, 0, 0 };
	map_case("devmem_private", "/dev/mem offset 0, MAP_PRIVATE PROT_READ", &a, 0);
	close(fd);
}

static void devzero_cases(void)
{
	int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
	struct mc a;
	int e;
	if (fd < 0) {
		e = errno;
		kt_skip("devzero_shared", "/dev/zero not available (%s)", kt_errname(e));
		kt_skip("devzero_private", "/dev/zero not available (%s)", kt_errname(e));
		return;
	}
	a = (struct mc){ fd, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 1 };
	map_case("devzero_shared", "/dev/zero MAP_SHARED RW + store", &a, 0);
	a = (struct mc){ fd, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0, 1 };
	map_case("devzero_private", "/dev/zero MAP_PRIVATE RW + store", &a, 0);
	close(fd);
}

static void relay_case(void)
{
	const char *pmem = kt_env("DAXRIG_PMEM");
	struct dr_blk_user_trace_setup b;
	char path[128];
	int fd, tfd, e;
	void *p;
	if (!pmem) {
		kt_skip("relay_blktrace_mmap", "no pmem block device in this machine (DAXRIG_PMEM unset)");
		return;
	}
	if (access("/sys/kernel/debug/block", F_OK) < 0) {
		kt_skip("relay_blktrace_mmap", "debugfs not mounted (/sys/kernel/debug/block missing)");
		return;
	}
	fd = open(pmem, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		kt_fail("relay_blktrace_mmap", "setup: open %s: %s", pmem, kt_errname(errno));
		return;
	}
	memset(&b, 0, sizeof(b));
	b.buf_size = 64 * 1024;
	b.buf_nr = 2;
	if (ioctl(fd, DR_BLKTRACESETUP, &b) < 0) {
		e = errno;
		kt_skip("relay_blktrace_mmap", "BLKTRACESETUP on %s: %s (blktrace not available)", pmem,
			kt_errname(e));
		close(fd);
		return;
	}
	b.name[sizeof(b.name) - 1] = 0;
	snprintf(path, sizeof(path), "/sys/kernel/debug/block/%s/trace0", b.name);
	tfd = open(path, O_RDONLY | O_CLOEXEC);
	if (tfd < 0) {
		kt_fail("relay_blktrace_mmap", "open %s after BLKTRACESETUP: %s", path, kt_errname(errno));
	} else {
		errno = 0;
		p = mmap(NULL, b.buf_size * b.buf_nr, PROT_READ, MAP_SHARED, tfd, 0);
		e = errno;
		kt_diag("relay_blktrace_mmap: mmap %s (debugfs proxy has no .mmap)", path);
		kt_expect("relay_blktrace_mmap", p == MAP_FAILED ? -1 : 0, e, ENODEV);
		if (p != MAP_FAILED)
			munmap(p, b.buf_size * b.buf_nr);
		close(tfd);
	}
	if (ioctl(fd, DR_BLKTRACETEARDOWN) < 0)
		kt_diag("BLKTRACETEARDOWN: %s", kt_errname(errno));
	close(fd);
}

static void kcov_case(void)
{
	const unsigned long n = 64 * 1024;
	int fd = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
	void *p;
	int e;
	if (fd < 0) {
		e = errno;
		if (access("/sys/kernel/debug/block", F_OK) < 0)
			kt_skip("kcov_mmap", "debugfs not mounted");
		else
			kt_skip("kcov_mmap", "kcov not in this kernel (%s: CONFIG_KCOV unset)", kt_errname(e));
		return;
	}
	if (ioctl(fd, DR_KCOV_INIT_TRACE, n) < 0) {
		kt_fail("kcov_mmap", "KCOV_INIT_TRACE: %s", kt_errname(errno));
		close(fd);
		return;
	}
	errno = 0;
	p = mmap(NULL, n * sizeof(unsigned long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	e = errno;
	kt_expect("kcov_mmap", p == MAP_FAILED ? -1 : 0, e, 0);
	if (p != MAP_FAILED)
		munmap(p, n * sizeof(unsigned long));
	close(fd);
}

int main(void)
{
	struct mc a;
	kt_plan(16);
	memfd_cases();
	a = (struct mc){ -1, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, 0, 1 };
	map_case("shmem_anon_shared", "MAP_SHARED|MAP_ANONYMOUS RW + store", &a, 0);
	hugetlb_cases();
	devmem_cases();
	devzero_cases();
	relay_case();
	kcov_case();
	return kt_exit();
}
