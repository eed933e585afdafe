/* topology: what the guest saw of its persistent memory, checked against what the variant asked for.
 *
 * For every namespace the rig made on a labelled DIMM (DAXRIG_NS_<NAME>=/dev/..., DAXRIG_NS_<NAME>_MODE):
 *   ns_<name>      fsdax: a block device with DAX; sector: a BTT block device (name ends in "s"), no DAX;
 *                  raw: a block device without DAX; devdax: a character device under /sys/bus/dax
 * For every DIMM the variant put on a NUMA node (DAXRIG_DIMM<I>_NODE=N):
 *   node_dimm<I>   the region that maps nmem<I> reports target_node N (the DIMM's proximity domain). Its
 *                  numa_node is the nearest node that is online with CPUs or memory: for a memory-less node,
 *                  as run_qemu makes them, that is node 0, so it is printed, not asserted
 * For every CXL device (DAXRIG_CXL<I>_SIZE_MIB=N, DAXRIG_CXL<I>_NAMESPACE=<NAME>; the guest's setup adds
 * DAXRIG_CXL<I>_REGION and DAXRIG_CXL<I>_MEMDEV):
 *   cxl<I>         the CXL region is committed, N MiB, pmem (where the kernel reports a mode: 6.3 on), the memdev
 *                  has N MiB of persistent capacity, and the namespace DAXRIG_NS_<NAME> lives on the CXL nvdimm
 *                  bridge (not on an NFIT DIMM)
 * A machine with none of these gets a plan of 1..0 (no tests: a skip, never a pass).
 */
#include "ktap.h"
#include <sys/sysmacros.h>

extern char **environ;

static long sysfs_num(const char *fmt, const char *arg)
{
	char path[256];

	snprintf(path, sizeof(path), fmt, arg);
	return kt_read_num(path);
}

static void check_ns(const char *name, const char *dev, const char *mode)
{
	char tname[128];
	struct stat st;
	const char *base = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;

	snprintf(tname, sizeof(tname), "ns_%s", name);
	for (char *p = tname; *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
	if (stat(dev, &st) < 0) {
		kt_fail(tname, "%s: %s", dev, strerror(errno));
		return;
	}
	if (!strcmp(mode, "devdax")) {
		char sys[128];
		snprintf(sys, sizeof(sys), "/sys/bus/dax/devices/%s", base);
		if (!S_ISCHR(st.st_mode))
			kt_fail(tname, "%s is not a character device", dev);
		else if (access(sys, F_OK) < 0)
			kt_fail(tname, "%s is not a dax device (%s missing)", dev, sys);
		else {
			kt_diag("%s: devdax, align %ld", dev, kt_devdax_align(dev));
			kt_ok(tname);
		}
		return;
	}
	if (!S_ISBLK(st.st_mode)) {
		kt_fail(tname, "%s is not a block device", dev);
		return;
	}
	long dax = sysfs_num("/sys/block/%s/queue/dax", base);
	long sectors = sysfs_num("/sys/block/%s/size", base);
	kt_diag("%s: %s, %ld MiB, queue/dax %ld", dev, mode, sectors * 512 / (1 << 20), dax);
	if (!strcmp(mode, "fsdax") && dax != 1)
		kt_fail(tname, "fsdax namespace %s without DAX (queue/dax %ld)", dev, dax);
	else if (!strcmp(mode, "sector") && (dax != 0 || base[strlen(base) - 1] != 's'))
		kt_fail(tname, "sector namespace %s is not a BTT device without DAX", dev);
	else if (!strcmp(mode, "raw") && dax != 0)
		kt_fail(tname, "raw namespace %s has DAX", dev);
	else
		kt_ok(tname);
}

/* the region whose first mapping is nmem<dimm> */
static int region_of(int dimm, char *out, size_t sz)
{
	for (int r = 0; r < 64; r++) {
		char path[96], buf[64], want[24];
		int fd, n;

		snprintf(path, sizeof(path), "/sys/bus/nd/devices/region%d/mapping0", r);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		snprintf(want, sizeof(want), "nmem%d,", dimm);
		if (!strncmp(buf, want, strlen(want))) {
			snprintf(out, sz, "region%d", r);
			return 0;
		}
	}
	return -1;
}

static void check_node(int dimm, long want)
{
	char tname[32], region[32];

	snprintf(tname, sizeof(tname), "node_dimm%d", dimm);
	if (region_of(dimm, region, sizeof(region)) < 0) {
		kt_fail(tname, "no region maps nmem%d", dimm);
		return;
	}
	long numa = sysfs_num("/sys/bus/nd/devices/%s/numa_node", region);
	long target = sysfs_num("/sys/bus/nd/devices/%s/target_node", region);
	kt_diag("%s (nmem%d): numa_node %ld, target_node %ld, expected %ld", region, dimm, numa, target, want);
	if (target != want)
		kt_fail(tname, "%s has target_node %ld (numa_node %ld), the variant put nmem%d on node %ld", region, target, numa, dimm, want);
	else
		kt_ok(tname);
}

static int read_str(const char *path, char *out, size_t sz)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	out[0] = 0;
	if (fd < 0)
		return -1;
	n = read(fd, out, sz - 1);
	close(fd);
	if (n <= 0)
		return -1;
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

static void check_cxl(int i, long want_mib)
{
	char tname[32], key[64], sys[256], mode[32], real[4096];
	const char *region, *memdev, *ns, *dev;

	snprintf(tname, sizeof(tname), "cxl%d", i);
	snprintf(key, sizeof(key), "DAXRIG_CXL%d_REGION", i);
	region = kt_env(key);
	snprintf(key, sizeof(key), "DAXRIG_CXL%d_MEMDEV", i);
	memdev = kt_env(key);
	snprintf(key, sizeof(key), "DAXRIG_CXL%d_NAMESPACE", i);
	ns = kt_env(key);
	if (!region || !memdev || !ns) {
		kt_fail(tname, "the guest's setup named no CXL region, memdev or namespace for device %d", i);
		return;
	}
	long want = want_mib << 20;
	long commit = sysfs_num("/sys/bus/cxl/devices/%s/commit", region);
	long size = sysfs_num("/sys/bus/cxl/devices/%s/size", region);
	long cap = sysfs_num("/sys/bus/cxl/devices/%s/pmem/size", memdev);
	snprintf(sys, sizeof(sys), "/sys/bus/cxl/devices/%s/mode", region);
	if (read_str(sys, mode, sizeof(mode)) < 0)
		snprintf(mode, sizeof(mode), "n/a");
	snprintf(key, sizeof(key), "DAXRIG_NS_%s", ns);
	dev = kt_env(key);
	const char *base = dev && strrchr(dev, '/') ? strrchr(dev, '/') + 1 : "";
	/* a block namespace is under /sys/block, a devdax one under /sys/bus/dax */
	snprintf(sys, sizeof(sys), "/sys/block/%s", base);
	if (access(sys, F_OK) < 0)
		snprintf(sys, sizeof(sys), "/sys/bus/dax/devices/%s", base);
	if (!realpath(sys, real))
		snprintf(real, sizeof(real), "(%s: %s)", sys, strerror(errno));
	kt_diag("cxl%d: %s of %s, %ld MiB (memdev pmem %ld MiB), commit %ld, mode %s; %s at %s", i, region, memdev, size >> 20,
		cap >> 20, commit, mode, dev ? dev : "(no namespace)", real);
	if (commit != 1)
		kt_fail(tname, "CXL %s is not committed (commit %ld)", region, commit);
	else if (size != want || cap != want)
		kt_fail(tname, "CXL %s is %ld MiB, memdev %s has %ld MiB of pmem; the variant asked for %ld MiB", region, size >> 20,
			memdev, cap >> 20, want_mib);
	else if (strcmp(mode, "n/a") && strcmp(mode, "pmem"))
		kt_fail(tname, "CXL %s has mode %s, not pmem", region, mode);
	else if (!strstr(real, "/nvdimm-bridge"))
		kt_fail(tname, "namespace %s is not on the CXL nvdimm bridge: %s", dev ? dev : ns, real);
	else
		kt_ok(tname);
}

int main(void)
{
	int n = 0;

	for (char **e = environ; *e; e++) {
		if (!strncmp(*e, "DAXRIG_NS_", 10) && !strstr(strchr(*e, '=') ? *e : "", "_MODE="))
			n++;
		else if (!strncmp(*e, "DAXRIG_DIMM", 11) && strstr(*e, "_NODE="))
			n++;
		else if (!strncmp(*e, "DAXRIG_CXL", 10) && strstr(*e, "_SIZE_MIB="))
			n++;
	}
	kt_plan(n);
	for (char **e = environ; *e; e++) {
		char key[96], name[96], modekey[112];
		const char *eq = strchr(*e, '=');
		size_t klen = eq ? (size_t)(eq - *e) : 0;

		if (!eq || klen >= sizeof(key))
			continue;
		memcpy(key, *e, klen);
		key[klen] = 0;
		if (!strncmp(key, "DAXRIG_NS_", 10) && !strstr(*e, "_MODE=")) {
			snprintf(name, sizeof(name), "%s", key + 10);
			snprintf(modekey, sizeof(modekey), "%s_MODE", key);
			check_ns(name, eq + 1, kt_env(modekey) ? kt_env(modekey) : "?");
		} else if (!strncmp(key, "DAXRIG_DIMM", 11) && strstr(key, "_NODE")) {
			check_node(atoi(key + 11), strtol(eq + 1, NULL, 10));
		} else if (!strncmp(key, "DAXRIG_CXL", 10) && strstr(key, "_SIZE_MIB")) {
			check_cxl(atoi(key + 10), strtol(eq + 1, NULL, 10));
		}
	}
	return kt_exit();
}
