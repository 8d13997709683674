#!/usr/bin/env bash
# Regenerates docs/results/bench-sd15-512.{json,md} and bench-sd15-256-memory.{json,md}:
# SD-1.5 architecture with random weights (speed does not depend on the values), fp32; then
# bench-sd15-512-{float32,bfloat16}.{json,md}.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${MODEL:-target/sd15-random}"
[ -d "$MODEL" ] || ./edgegen init --arch sd15 --random -o "$MODEL"
./edgegen bench --model "$MODEL" -W 512 -H 512 --iterations 3 --blocks --json docs/results/bench-sd15-512.json
./edgegen bench --model "$MODEL" -W 256 -H 256 --iterations 1 --memory-steps 50 --json docs/results/bench-sd15-256-memory.json
# float32 vs bfloat16 (convolutions and linear layers; --precision), one after the other in the same session:
for p in float32 bfloat16; do
  ./edgegen bench --model "$MODEL" -W 512 -H 512 --iterations 3 --precision "$p" --json "docs/results/bench-sd15-512-$p.json"
done
