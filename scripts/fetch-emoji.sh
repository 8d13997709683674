#!/usr/bin/env bash
# Fetches captioned 64x64 emoji images from the npm registry, pinned by version and SHA-256,
# into data/emoji/<set>/ (emoji.json, LICENSE, 64/*.png). Idempotent: a set already fetched at
# this version is skipped.
#   scripts/fetch-emoji.sh            # google (Noto Emoji images, Apache-2.0)
#   scripts/fetch-emoji.sh google twitter   # adds Twemoji (CC-BY-4.0) as a second style
set -euo pipefail
VERSION=16.0.0
declare -A SHA256=(
  [google]=fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438
  [twitter]=f64a530c63bca463bd8317fdc4615ce63a53a0c65018e4ce2d848aaba7a28877
)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${EDGEGEN_DATA:-$ROOT/data}/emoji"
SETS=("$@")
[ ${#SETS[@]} -eq 0 ] && SETS=(google)
command -v npm >/dev/null || { echo "fetch-emoji: npm is required (apt-get install npm)" >&2; exit 1; }
for set in "${SETS[@]}"; do
  sum="${SHA256[$set]:-}"
  [ -n "$sum" ] || { echo "fetch-emoji: unknown set '$set' (known: ${!SHA256[*]})" >&2; exit 2; }
  dest="$OUT/$set"
  if [ -f "$dest/.version" ] && [ "$(cat "$dest/.version")" = "$VERSION" ]; then
    echo "emoji-datasource-$set@$VERSION already in $dest"
    continue
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "emoji-datasource-$set@$VERSION" >/dev/null)
  tgz="$tmp/emoji-datasource-$set-$VERSION.tgz"
  echo "$sum  $tgz" | sha256sum -c --quiet - || { echo "fetch-emoji: checksum mismatch for $set" >&2; exit 3; }
  tar xzf "$tgz" -C "$tmp" package/emoji.json package/LICENSE "package/img/$set/64"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  mv "$tmp/package/emoji.json" "$tmp/package/LICENSE" "$dest.partial/"
  mv "$tmp/package/img/$set/64" "$dest.partial/64"
  echo "$VERSION" > "$dest.partial/.version"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  rm -rf "$tmp"
  trap - EXIT
  echo "emoji-datasource-$set@$VERSION: $(ls "$dest/64" | wc -l) images in $dest"
done
