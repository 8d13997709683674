#!/usr/bin/env bash
# Times training steps of the default recipe: 60-step copies of configs/default/unet.json (the first UNet stage)
# and configs/default/autoencoder.json, in float32 and with "precision": "bfloat16", run alternately ROUNDS times
# so that a machine whose speed drifts affects every variant alike. With BASELINE_JAR set (an edgegen.jar built
# from another commit), that build's float32 runs are added, e.g. to time a change:
#   git worktree add /tmp/base COMMIT && (cd /tmp/base && mvn -B -q -DskipTests package)
#   BASELINE_JAR=/tmp/base/target/edgegen.jar scripts/bench-training-speed.sh
# Needs the default autoencoder run (runs/default/autoencoder) for the UNet stage.
# Writes docs/results/training-speed.jsonl: one line per run with it/s = the log's it_s at step 60 (start-up
# excluded), the loss and gradient norm at step 60 (float32 runs of any build agree to ~1e-7), and prints a
# markdown table of the median it/s of each variant (the one in docs/results/training-speed.md).
# Usage: scripts/bench-training-speed.sh [ROUNDS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
OUT=docs/results/training-speed.jsonl
[ -f runs/default/autoencoder/checkpoint.safetensors ] || {
  echo "needs runs/default/autoencoder (./edgegen train autoencoder --config configs/default/autoencoder.json)" >&2; exit 2; }
command -v jq >/dev/null || { echo "needs jq (apt-get install jq)" >&2; exit 127; }
[ -f data/emoji/google/emoji.json ] || scripts/fetch-emoji.sh google
./edgegen --version >/dev/null   # builds if needed
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
ROOT="$(pwd)"

config() {  # config STAGE_FILE PRECISION OUT_DIR: a 60-step copy with absolute paths
  sed -e "s|\"output\": *\"[^\"]*\"|\"output\": \"$3\"|" \
      -e "s|\"\.\./\.\./runs/default/autoencoder\"|\"$ROOT/runs/default/autoencoder\"|" \
      -e "s|\"\.\./\.\./data/emoji\"|\"$ROOT/data/emoji\"|" \
      -e 's|"steps": *[0-9]*|"steps": 60|' \
      -e "s|\"log_every\": *10 *}|\"log_every\": 10, \"precision\": \"$2\" }|" "$1"
}

run() {  # run STAGE(autoencoder|unet) PRECISION BUILD(current|baseline) ROUND
  local dir="$WORK/$1-$2-$3-$4" cfg="$WORK/$1-$2-$3-$4.json"
  config "configs/default/$([ "$1" = unet ] && echo unet || echo autoencoder).json" "$2" "$dir" > "$cfg"
  if [ "$3" = current ]; then
    OMP_WAIT_POLICY=PASSIVE EDGEGEN_JAVA_OPTS=-Dai.djl.pytorch.num_threads=2 ./edgegen train "$1" --config "$cfg" > "$dir.log" 2>&1
  else
    sed -i 's|, "precision": "float32"||' "$cfg"   # an older build may not know the key
    OMP_WAIT_POLICY=PASSIVE java --add-modules jdk.incubator.vector -Dai.djl.pytorch.num_threads=2 \
      -cp "$BASELINE_JAR:target/lib/*" dev.edgegen.cli.Main train "$1" --config "$cfg" > "$dir.log" 2>&1
  fi
  tail -1 "$dir/log.jsonl" | sed "s|^{|{\"stage\":\"$1\",\"precision\":\"$2\",\"build\":\"$3\",\"round\":$4,|" | tee -a "$OUT"
}

: > "$OUT"
for stage in unet autoencoder; do
  for r in $(seq 1 "$ROUNDS"); do
    [ -n "${BASELINE_JAR:-}" ] && run "$stage" float32 baseline "$r"
    run "$stage" float32 current "$r"
    run "$stage" bfloat16 current "$r"
  done
done

# the median of each variant's runs, and its ratio to this build's float32 and to the baseline build
jq -rs '
def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
group_by([.stage, .build, .precision])
| map({stage: .[0].stage, build: .[0].build, precision: .[0].precision, runs: length,
       it_s: (map(.it_s) | median), all: (map(.it_s * 1000 | round / 1000) | map(tostring) | join(", "))})
| (map(select(.build == "baseline" or .precision == "float32")) | map({key: (.stage + "/" + .build), value: .it_s}) | from_entries) as $ref
| "| stage | build | precision | it/s, median of runs | runs (it/s) | vs this build'\''s float32 | vs baseline |",
  "|---|---|---|---|---|---|---|",
  (.[] | "| \(.stage) | \(.build) | \(.precision) | \(.it_s * 1000 | round / 1000) | \(.all)"
         + " | \(if .build == "current" then (.it_s / $ref[.stage + "/current"] * 100 | round / 100 | tostring) + "x" else "" end)"
         + " | \(if $ref[.stage + "/baseline"] then (.it_s / $ref[.stage + "/baseline"] * 100 | round / 100 | tostring) + "x" else "" end) |")
' "$OUT"
