#!/usr/bin/env bash
# Regenerates docs/results/bench-sd15-512.{json,md} and bench-sd15-256-memory.{json,md}:
# SD-1.5 architecture with random weights (speed does not depend on the values), fp32.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${MODEL:-target/sd15-random}"
[ -d "$MODEL" ] || ./edgegen init --arch sd15 --random -o "$MODEL"
./edgegen bench --model "$MODEL" -W 512 -H 512 --iterations 3 --blocks --json docs/results/bench-sd15-512.json
./edgegen bench --model "$MODEL" -W 256 -H 256 --iterations 1 --memory-steps 50 --json docs/results/bench-sd15-256-memory.json
