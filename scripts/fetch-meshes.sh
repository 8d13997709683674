#!/usr/bin/env bash
# Fetches the meshes of the built-in NeLF scenes from Debian packages (pinned versions),
# unpacked with dpkg-deb into data/meshes (no root install needed).
#   bunny  : glmark2-data   -> data/meshes/bunny.obj   (Stanford bunny, 34,835 vertices)
#   spider : assimp-testmodels -> data/meshes/spider/spider.obj + .mtl + JPEG textures
#   house  : assimp-testmodels -> data/meshes/house/regr01.obj + .mtl (per-material colours)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/data/meshes}"
GLMARK_VERSION="2023.01+dfsg-1"
ASSIMP_VERSION="5.2.5~ds0-1"
if [[ -f "$OUT/bunny.obj" && -f "$OUT/spider/spider.obj" && -f "$OUT/house/regr01.obj" ]]; then
  echo "meshes already in $OUT"; exit 0
fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
apt-get download "glmark2-data=$GLMARK_VERSION" "assimp-testmodels=$ASSIMP_VERSION" 2>/dev/null \
  || apt-get download glmark2-data assimp-testmodels
dpkg-deb -x glmark2-data_*.deb g
dpkg-deb -x assimp-testmodels_*.deb a
mkdir -p "$OUT.tmp/spider" "$OUT.tmp/house"
cp g/usr/share/glmark2/models/bunny.obj "$OUT.tmp/bunny.obj"
A=a/usr/share/assimp/models/OBJ
cp "$A/spider.obj" "$A/spider.mtl" "$A"/SpiderTex.jpg "$A"/drkwood2.jpg "$A"/engineflare1.jpg \
   "$A"/wal67ar_small.jpg "$A"/wal69ar_small.jpg "$OUT.tmp/spider/"
cp "$A/regr01.obj" "$A/regr01.mtl" "$OUT.tmp/house/"
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
mv "$OUT.tmp" "$OUT"
echo "meshes written to $OUT"
