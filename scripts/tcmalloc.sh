# Sourced by ./edgegen, .ci/run and scripts/bench-training-speed.sh, so they agree on where tcmalloc is:
# tcmalloc_path prints the path of libtcmalloc_minimal.so.4 (Debian: libtcmalloc-minimal4) when installed, else nothing.
tcmalloc_path() {
  local d
  for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
    if [ -f "$d/libtcmalloc_minimal.so.4" ]; then
      echo "$d/libtcmalloc_minimal.so.4"
      return 0
    fi
  done
  return 0
}
