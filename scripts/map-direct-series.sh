#!/usr/bin/env bash
# Regenerate tests/patches/map-direct-v5-6.1 (the MAP_DIRECT v5 forward-port) from a git tree whose
# commits BASE..TIP are the series, BASE being the pristine Debian linux-source-6.1 tree (the rig's
# ~/.cache/daxrig/trees/linux-source-6.1_*/src HEAD).
#
#   scripts/map-direct-series.sh TREE [BASE [TIP [OUTDIR]]]
#
# BASE defaults to the root commit of TREE, TIP to HEAD, OUTDIR to tests/patches/map-direct-v5-6.1.
# The cover letter's text is scripts/map-direct-v5-6.1.cover (its first line is the subject). Commit
# hashes are zeroed, so the output depends only on the commits. Every patch is checked with checkpatch.pl.
set -euo pipefail
tree=${1:?usage: $0 TREE [BASE [TIP [OUTDIR]]]}
base=${2:-$(git -C "$tree" rev-list --max-parents=0 HEAD)}
tip=${3:-HEAD}
here=$(cd "$(dirname "$0")/.." && pwd)
out=${4:-$here/tests/patches/map-direct-v5-6.1}
cover=$here/scripts/map-direct-v5-6.1.cover

n=$(git -C "$tree" rev-list --count "$base..$tip")
[ "$n" -gt 0 ] || { echo "no commits in $base..$tip" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the cover letter's From: is the series author (the first commit's)
who=$(git -C "$tree" log -1 --format='%an' "$(git -C "$tree" rev-list --reverse "$base..$tip" | head -1)")
mail=$(git -C "$tree" log -1 --format='%ae' "$(git -C "$tree" rev-list --reverse "$base..$tip" | head -1)")
git -C "$tree" -c user.name="$who" -c user.email="$mail" format-patch -q --zero-commit --no-signature --cover-letter -o "$tmp" "$base..$tip"

# fill in the cover letter: subject from the cover file's first line, body from the rest
subject=$(head -1 "$cover")
date=$(git -C "$tree" log -1 --format=%aD "$tip")
python3 - "$tmp/0000-cover-letter.patch" "$cover" "$subject" "$date" <<'PY'
import re, sys
path, cover, subject, date = sys.argv[1:5]
text = open(path).read()
# the cover's date is the tip commit's, so regenerating from the same commits changes nothing
text = re.sub(r'^Date: .*$', 'Date: ' + date, text, count=1, flags=re.M)
body = open(cover).read().split('\n', 1)[1].strip('\n')
assert '*** SUBJECT HERE ***' in text and '*** BLURB HERE ***' in text
text = text.replace('*** SUBJECT HERE ***', subject).replace('*** BLURB HERE ***', body)
open(path, 'w').write(text)
PY

# checkpatch: no errors, no warnings (the cover letter is not a patch)
if [ -x "$tree/scripts/checkpatch.pl" ] || [ -f "$tree/scripts/checkpatch.pl" ]; then
  patches=$(ls "$tmp"/*.patch | grep -v /0000-cover-letter.patch)
  # shellcheck disable=SC2086
  (cd "$tree" && perl scripts/checkpatch.pl --no-tree -q $patches) ||
    { echo "checkpatch.pl complained (see above)" >&2; exit 1; }
fi

mkdir -p "$out"
rm -f "$out"/*.patch
cp "$tmp"/*.patch "$out"/
ls "$out"
