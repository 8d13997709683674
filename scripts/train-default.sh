#!/usr/bin/env bash
# Trains EdgeGen's built-in text-to-image model and exports it to models/default:
#   1. fetch the emoji data (scripts/fetch-emoji.sh; synthetic scenes are generated on the fly)
#   2. edgegen train autoencoder --config CONFIGS/autoencoder.json   (64x64 RGB -> 16x16x8 KL autoencoder)
#   3. edgegen train unet        --config CONFIGS/unet.json          (UNet on MiniLM context, CFG dropout, EMA,
#                                                                     Min-SNR weighting, attention + binding terms)
#      edgegen train unet        --config CONFIGS/unet-N.json        (continuation stages, in order, if CONFIGS has
#                                                                     any: configs/seven-hour has unet-2 to unet-7)
#   4. edgegen export --run <last unet run> --half -o MODEL_OUT      (EMA weights, float16, diffusers layout)
# The default, configs/two-hour-snr05, took 122 min on this 2-core machine from empty run folders.
# Rerunning resumes each stage from its checkpoint (Ctrl-C / SIGTERM write one first).
# Usage: scripts/train-default.sh [CONFIGS [MODEL_OUT]]   (default: configs/two-hour-snr05 models/default)
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIGS="${1:-configs/two-hour-snr05}"
MODEL_OUT="${2:-models/default}"
[ -f data/emoji/google/emoji.json ] || scripts/fetch-emoji.sh google
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
export EDGEGEN_JAVA_OPTS="${EDGEGEN_JAVA_OPTS:--Dai.djl.pytorch.num_threads=2}"

run_dir() {  # the absolute "output" directory of config $1 (relative paths are against the config's folder)
  local rel
  rel="$(sed -n 's/^ *"output": *"\([^"]*\)".*/\1/p' "$1")"
  (cd "$(dirname "$1")" && mkdir -p "$rel" && cd "$rel" && pwd)
}

train() {  # train STAGE [CONFIG_NAME], resuming when its run directory already holds a checkpoint
  local cfg="$CONFIGS/${2:-$1}.json" resume=()
  [ -f "$(run_dir "$cfg")/checkpoint.safetensors" ] && resume=(--resume)
  ./edgegen train "$1" --config "$cfg" "${resume[@]}"
}

train autoencoder
train unet
last=unet
for cfg in $(ls "$CONFIGS"/unet-*.json 2>/dev/null | sort -V); do  # the continuation stages, in order
  more="$(basename "$cfg" .json)"
  train unet "$more"
  last="$more"
done
./edgegen export --run "$(run_dir "$CONFIGS/$last.json")" --half -o "$MODEL_OUT"
