// Pure parts of the prebuilt-kernel fetcher: apt sources per suite, metapackage resolution, kernel file layout.
import t from 'tap'
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findKernelFiles, imageDependency, sourcesFor } from '../../../harness/kernel/prebuilt.js'

t.test('a metapackage resolves to the versioned image it depends on', async t => {
  // sid's linux-image-amd64 (7.2.13-1) and bookworm's, as apt-cache show prints them
  t.equal(imageDependency(' linux-base-amd64 (= 7.2.13-1), linux-image-7.2.13+deb14-amd64 (= 7.2.13-1)'), 'linux-image-7.2.13+deb14-amd64')
  t.equal(imageDependency(' linux-image-6.1.0-57-amd64 (= 6.1.198-1)'), 'linux-image-6.1.0-57-amd64')
  t.equal(imageDependency(' linux-base-amd64 (= 7.2.13-1)'), undefined, 'no versioned image: nothing to resolve')
})

t.test('sid has no -updates or -security pockets', async t => {
  const m = { main: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' }
  t.equal(sourcesFor('sid', m).trim().split('\n').length, 1)
  t.match(sourcesFor('bookworm', m), /bookworm-security main/)
})

t.test('kernel files: bookworm boot/ layout and sid lib/modules/<rel>/ layout', async t => {
  const a = await mkdtemp(join(tmpdir(), 'dx-pb-'))
  await mkdir(join(a, 'boot'))
  await mkdir(join(a, 'lib', 'modules', '6.1.0-56-amd64'), { recursive: true })
  await writeFile(join(a, 'boot', 'vmlinuz-6.1.0-56-amd64'), '')
  await writeFile(join(a, 'boot', 'config-6.1.0-56-amd64'), '')
  t.match(await findKernelFiles(a), { release: '6.1.0-56-amd64', modRoot: a })
  const b = await mkdtemp(join(tmpdir(), 'dx-pb-'))
  const d = join(b, 'usr', 'lib', 'modules', '7.2.13+deb14-amd64')
  await mkdir(d, { recursive: true })
  await writeFile(join(d, 'vmlinuz'), '')
  await writeFile(join(d, 'config'), '')
  t.match(await findKernelFiles(b), { release: '7.2.13+deb14-amd64', modRoot: join(b, 'usr') })
  t.equal(await findKernelFiles(await mkdtemp(join(tmpdir(), 'dx-pb-'))), undefined)
})
