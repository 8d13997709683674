#!/usr/bin/env bash
# Reproduces docs/results/nelf-*: built-in scenes at 200x200, voxel-grid teachers, distilled MobileR2L
# students, evaluation with side-by-side images, and the speed benchmark. Runs single-threaded
# PyTorch per process for training (faster than 2 threads on a busy 2-core machine), 2 threads for the benchmark. Usage:
#   scripts/nelf-experiments.sh [PRESET] [PSEUDO] [DISTILL_STEPS] [FINETUNE_STEPS] [TAG]
# Defaults reproduce the committed "long" run (docs/results/nelf-eval-*-long.json, nelf-bench-long.json).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-fast}"; PSEUDO="${2:-2000}"; DSTEPS="${3:-15000}"; FSTEPS="${4:-2000}"; TAG="${5:-long}"
export EDGEGEN_JAVA_OPTS="${EDGEGEN_JAVA_OPTS:--Xmx5g -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1}"
J=(./edgegen nelf)
mkdir -p runs docs/results/nelf-images
for s in bunny spider; do
  [[ -d runs/${s}200 ]] || "${J[@]}" scene --mesh $s -o runs/${s}200 -W 200 -H 200 --train 100 --val 0 --test 20
  [[ -f runs/teacher-$s/teacher.json ]] || "${J[@]}" teacher --data runs/${s}200 -o runs/teacher-$s \
      --steps 1200 --batch-rays 2048 --grid 64 --step-voxels 0.8 --checkpoint-every 100
  out=runs/student-$s-$TAG
  [[ -f $out/student.json ]] || "${J[@]}" distill --teacher runs/teacher-$s -o $out --pseudo "$PSEUDO" --preset "$PRESET" \
      --distill-steps "$DSTEPS" --finetune-steps "$FSTEPS" --lr 0.001 --checkpoint-every 250
  "${J[@]}" eval --model $out --teacher runs/teacher-$s -o docs/results/nelf-eval-$s-$TAG.json \
      --images docs/results/nelf-images --side-by-side 3
done
# timed with both cores (the machine's default), nothing else running
EDGEGEN_JAVA_OPTS="-Dai.djl.pytorch.num_threads=2 -Dai.djl.pytorch.num_interop_threads=1" \
  "${J[@]}" bench --model runs/student-bunny-$TAG --teacher runs/teacher-bunny --iterations 15 -o docs/results/nelf-bench-$TAG.json
"${J[@]}" render --model runs/student-bunny-$TAG --orbit --frames 36 -W 200 -H 200 -o docs/results/nelf-images/bunny-orbit-student.gif
