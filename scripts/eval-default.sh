#!/usr/bin/env bash
# Evaluates a text-to-image model (default: the built-in models/default) and writes docs/results/default-model*:
#   default-model.{json,md}, default-model-held-out-{1,2}.png   50 DDIM steps, CFG 5, 100 held-out synthetic prompts per set (400 images)
#   default-model-emoji.{json,md}, default-model-emoji-emoji.png emoji prompts (CLIP score, grid)
#   default-model-sweep.{json,md}, default-model-sweep-sweep.png    FID vs CLIP score over guidance scales
# Usage: scripts/eval-default.sh [MODEL_DIR] [OUT_PREFIX]
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-models/default}"
OUT="${2:-docs/results/default-model}"
[ -f data/emoji/google/emoji.json ] || scripts/fetch-emoji.sh google
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
./edgegen eval --model "$MODEL" --steps 50 --cfg-scale 5 --prompts held-out --prompts-per-set 100 -o "$OUT"
./edgegen eval --model "$MODEL" --steps 50 --cfg-scale 5 --prompts emoji --prompts-per-set 25 -o "$OUT-emoji"
./edgegen eval --model "$MODEL" --steps 50 --sweep-cfg 1,2,3,5,8 --prompts held-out --prompts-per-set 16 -o "$OUT-sweep"
