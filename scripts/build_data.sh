#!/usr/bin/env bash
# Rebuild embedlab's shipped data (data/kjv.txt.gz, data/kjv_chapters.tsv.gz, data/wordnet/*.tsv.gz)
# from Debian packages.
#
#   scripts/build_data.sh           download the packages, rebuild into data/
#   scripts/build_data.sh --check   rebuild into a temporary folder and compare sha256 with data/
#
# Needs apt-get (after `apt-get update`), dpkg-deb and python3 (stdlib only). The package
# versions are pinned; override with KJV_VERSION / WORDNET_VERSION to try newer ones.
set -euo pipefail

KJV_VERSION="${KJV_VERSION:-4.38}"
WORDNET_VERSION="${WORDNET_VERSION:-1:3.0-37}"

root="$(cd "$(dirname "$0")/.." && pwd)"
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod a+rwx "$work"  # lets apt download as its sandbox user
cd "$work"

apt-get download "bible-kjv-text=$KJV_VERSION" "bible-kjv=$KJV_VERSION" "wordnet-base=$WORDNET_VERSION" >/dev/null
for deb in ./*.deb; do
  dpkg-deb -x "$deb" pkg
done

# The `bible` reader from bible-kjv decompresses bible-kjv-text's data file; -f turns pretty-printing
# off, giving one verse per line prefixed by its reference (stripped by build_data.py).
pkg/usr/bin/bible -f -p "$work/pkg/usr/lib" gen1:1-rev22:21 </dev/null >verses.txt

out="$root/data"
if [ "$check" = 1 ]; then
  out="$work/out"
fi
python3 "$root/scripts/build_data.py" verses.txt pkg/usr/share/wordnet "$out"
# The control tasks of experiments/embeddings.toml, derived from supersense.tsv.gz.
python3 "$root/scripts/build_control_tasks.py" "$out"
# The extractive QA task of experiments/qa.toml (hypernyms named in definitions).
python3 "$root/scripts/build_qa.py" pkg/usr/share/wordnet "$out"
# The long-input control of experiments/long.toml (definitions after noise words).
python3 "$root/scripts/build_long.py" "$out"
# The long-document task of experiments/packing.toml (the KJV's chapters and their book groups).
python3 "$root/scripts/build_kjv_chapters.py" verses.txt "$out"

if [ "$check" = 0 ]; then
  cp pkg/usr/share/doc/wordnet-base/copyright "$root/data/wordnet/LICENSE"
  echo "rebuilt into $root/data"
  exit 0
fi

status=0
for f in kjv.txt.gz kjv_chapters.tsv.gz wordnet/order.tsv.gz wordnet/sides.tsv.gz wordnet/supersense.tsv.gz wordnet/defpairs.tsv.gz wordnet/tagging.tsv.gz wordnet/glosses.txt.gz wordnet/synonyms.tsv.gz wordnet/qa.tsv.gz wordnet/long.tsv.gz; do
  want="$(sha256sum "$root/data/$f" | cut -d' ' -f1)"
  got="$(sha256sum "$out/$f" | cut -d' ' -f1)"
  if [ "$want" = "$got" ]; then
    echo "ok       $f  $got"
  else
    echo "DIFFERS  $f  shipped $want, rebuilt $got"
    status=1
  fi
done
exit $status
