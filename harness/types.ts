// Types shared by every stage of the pipeline: variant → kernel → image → VM → console → results.
// The shapes of results.json (RunSummary and what it holds) and the verdict enumerations are zod schemas in
// results/schema.ts; their types are re-exported here.
import type { Expectation, RunVerdict } from './results/schema.js'

export type {
  CaseOutcome,
  CaseResult,
  CaseStatus,
  CaseVerdict,
  ConsoleFinding,
  Expectation,
  RunFailure,
  RunSummary,
  RunVerdict,
  VariantResult,
} from './results/schema.js'

export interface ExpectRule {
  /** test id or glob: `program.case`, `program.*`, `*` */
  pattern: string
  verdict: Expectation
  reason?: string
  /** applies only when at least this many patches of the series are applied */
  from?: number
  /** line in the variant file, for messages */
  line?: number
}

export type NvdimmMode = 'fsdax' | 'devdax' | 'raw'
export type FsType = 'ext4' | 'xfs'
/** how a filesystem on pmem is mounted: `-o dax` (always), `-o dax=never` (page cache), `-o dax=inode` (per-file flag) */
export type DaxMount = 'always' | 'never' | 'inode'

export interface FsSpec {
  type: FsType
  /** unique per machine: mounted at /mnt/<name>, handed to programs as DAXRIG_<NAME> */
  name: string
  /** xfs only: mkfs.xfs -m reflink=1 (default 0) */
  reflink: boolean
  dax: DaxMount
}

export type NamespaceMode = 'fsdax' | 'devdax' | 'sector' | 'raw'

/** One namespace the guest makes with ndctl (a labelled DIMM may hold several). */
export interface NamespaceSpec {
  /** unique per machine: the device is handed to programs as DAXRIG_NS_<NAME> */
  name: string
  mode: NamespaceMode
  /** raw size carved from the region; undefined = the rest of it */
  sizeMiB?: number
  /** fsdax/devdax mapping alignment in bytes (4K, 2M, 1G) */
  alignBytes?: number
  /** fsdax/devdax: where the struct pages live */
  map?: 'mem' | 'dev'
  fs?: FsSpec
}

export interface NvdimmSpec {
  sizeMiB: number
  /** label area in KiB; 0 = label-less DIMM (one namespace covering the whole DIMM) */
  labelKiB: number
  mode: NvdimmMode
  /** filesystem made on this namespace (fsdax only) */
  fs?: FsSpec
  /** NUMA node (0: with the CPUs and RAM; ≥ 1: a memory-less node of its own) */
  node?: number
  /** labelled DIMMs: the namespaces made from the region, in order (label-less DIMMs use mode/fs) */
  namespaces?: NamespaceSpec[]
}

/**
 * A CXL type-3 memory device backed by persistent memory, behind a CXL host bridge and root port. The guest makes
 * a pmem region on it with the `cxl` tool and one namespace in that region with ndctl.
 */
export interface CxlSpec {
  /** the device's persistent capacity: the region the guest makes (a multiple of 256M, CXL's decoder granularity) */
  sizeMiB: number
  /** the label storage area (LSA) QEMU gives the device; the namespace's labels live there */
  labelKiB: number
  /** the one namespace made in the region (fsdax or devdax), named to the programs as DAXRIG_NS_<NAME> */
  namespace: NamespaceSpec
}

export interface MachineSpec {
  memoryMiB: number
  cpus: number
  /** one entry per emulated DIMM, in slot order (a variant's `fs: [ext4, xfs]` is expanded to two DIMMs) */
  nvdimms: NvdimmSpec[]
  /** CXL type-3 pmem devices (at most one) */
  cxl: CxlSpec[]
  iommu: 'none' | 'intel'
  /** QEMU device handed to vfio-pci in the guest (edu, e1000e), or none */
  vfioDevice?: string
  /** 2 MiB hugepages reserved at boot */
  hugepages: number
  /** non-DAX ext4 (brd ramdisk) for control cases */
  nodaxFs: boolean
  /** extra kernel command line */
  cmdline: string[]
}

export interface KernelSpec {
  /** prebuilt: a Debian package; source: built by the rig; build: built elsewhere (an O= dir or an installed layout) */
  kind: 'prebuilt' | 'source' | 'build'
  /** build: the directory holding the kernel */
  buildDir?: string
  /** prebuilt: Debian image package, e.g. linux-image-6.1.0-56-amd64-unsigned */
  package?: string
  /** source: Debian linux-source-X.Y package, or a git tree */
  sourcePackage?: string
  git?: { path: string; ref: string }
  suite: string
  /** series: absolute path of an mbox, a directory of patches, or a git range */
  series?: { mbox?: string; dir?: string; gitRange?: string }
  /** Kconfig fragment names (kernel-config/<name>.config) or absolute paths */
  config: string[]
  /** `file:line: field` of kernel.prebuilt/source and kernel.suite, for errors found while fetching */
  where?: { package: string; suite: string }
}

export interface SeriesInfo {
  title?: string
  messageId?: string
  upstream?: string
  /** free text: why this variant exists, what it cannot test */
  notes?: string
}

export interface Variant {
  name: string
  /** absolute path of the YAML file */
  file: string
  series: SeriesInfo
  kernel: KernelSpec
  machine: MachineSpec
  /** numbers for unmerged interfaces, passed to the guest as DAXRIG_NR_<NAME> etc. */
  interfaces: {
    syscalls: Record<string, number>
    mmapFlags: Record<string, number>
    fcntl: Record<string, number>
  }
  /** guest programs: names in tests/guest/ (resolved to absolute .c paths) */
  tests: { name: string; source: string }[]
  expect: ExpectRule[]
  /** the run verdict this variant must end with, when it is not `ok` (canaries); judged as a whole */
  expectRun?: { verdict: RunVerdict; reason: string }
  /** console findings allowed on this variant: classifier kinds or fingerprints, with a reason */
  allow: { match: string; reason: string; from?: number }[]
  timeouts: { bootSec: number; noOutputSec: number; totalSec: number; perTestSec: number }
}

export interface Matrix {
  name: string
  file: string
  variants: string[]
}

/** A kernel ready to boot. */
export interface KernelArtifact {
  /** stable id (content hash) */
  id: string
  bzImage: string
  /**
   * Uncompressed ELF vmlinux with a PVH entry note (CONFIG_PVH=y), when available. QEMU boots it
   * directly and skips the in-guest decompressor, which costs ~3 s under TCG for an XZ bzImage.
   */
  pvhImage?: string
  /** `uname -r` */
  release: string
  /** final .config of this kernel */
  configPath: string
  /** module tree root (contains lib/modules/<release>), absent for kernels with everything built in */
  modulesRoot?: string
  /** sha256 of the kernel image: two prefixes with equal hashes built the same kernel */
  imageHash: string
  /** how it was obtained, for the report */
  description: string
  /** the build's full log in the rig's cache (source kernels) */
  buildLog?: string
}

/** `# daxrig-setup:` line of the results channel. */
export type SetupStatus = { ok: true } | { ok: false; step: string; message: string }

/** How a VM run ended, as the runner saw it. */
export interface VmEnd {
  /** `# daxrig-exit:` line seen on the results channel */
  exitMarker: boolean
  /** QEMU's exit code; null when it was killed */
  qemuExit: number | null
  /** which watchdog fired, if any */
  watchdog: 'no-output' | 'total' | null
}

/** Counts behind the `daxrig: N passed, N failed, N skipped` line; `known` are expected failures seen failing. */
export interface OutcomeCounts {
  passed: number
  failed: number
  skipped: number
  known: number
}
