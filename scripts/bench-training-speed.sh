#!/usr/bin/env bash
# Times training steps: 60-step copies of stage configs (default: the two-hour recipe's stages,
# configs/two-hour/autoencoder.json and configs/two-hour/unet.json) in each VARIANT, "precision:workers",
# "precision:workers:pool" (a UNet stage's data.pool; 0 = encode every batch; empty = the config's) or
# "precision:workers:pool:malloc" (malloc: tcmalloc or system; default: what the launcher uses, tcmalloc when installed)
# or "precision:workers:pool:malloc:denormals:warmer" (denormals: flush, the default, or keep, -Dedgegen.denormals;
# warmer: on, the default, or off, -Dedgegen.pageWarmer)
# (default "float32:1 bfloat16:1 float32:2 bfloat16:2"), run alternately ROUNDS times so that a machine whose speed
# drifts affects every variant alike. With BASELINE_JAR set (an edgegen.jar built from another commit), that
# build's runs of BASELINE_VARIANT (default float32:1) are added, e.g. to time a change:
#   git worktree add /tmp/base COMMIT && (cd /tmp/base && mvn -B -q -DskipTests package)
#   BASELINE_JAR=/tmp/base/target/edgegen.jar scripts/bench-training-speed.sh
# Needs the autoencoder run the UNet configs name (e.g. runs/default/autoencoder).
# Writes OUT (default docs/results/training-speed.jsonl): one line per run with it/s = the log's it_s at step 60
# (start-up excluded) and the loss and gradient norm at step 60; prints a markdown table of the median it/s of
# each variant and its ratio to the current build's float32:1.
# Usage: [CONFIGS="a.json b.json"] [VARIANTS="float32:1 bfloat16:2"] scripts/bench-training-speed.sh [ROUNDS]   (default 3)
# e.g. the latent pool: CONFIGS=configs/two-hour-pool/unet.json VARIANTS="bfloat16:2:0 bfloat16:2:3200" \
#   OUT=docs/results/training-pool-speed.jsonl scripts/bench-training-speed.sh
# the allocator: CONFIGS="configs/two-hour-short/autoencoder.json configs/two-hour-attn05/unet.json" \
#   VARIANTS="bfloat16:2:1600:system bfloat16:2:1600:tcmalloc" OUT=docs/results/training-allocator.jsonl scripts/bench-training-speed.sh 2
# flush-to-zero, from fresh and from trained weights: CONFIGS="configs/two-hour-mix/unet.json configs/two-hour-mix/unet-2.json" \
#   VARIANTS="bfloat16:2:1600:tcmalloc:keep bfloat16:2:1600:tcmalloc:flush" OUT=docs/results/training-denormals.jsonl \
#   scripts/bench-training-speed.sh 2   (needs runs/two-hour-mix/autoencoder and runs/two-hour-mix/unet)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
CONFIGS="${CONFIGS:-configs/two-hour/autoencoder.json configs/two-hour/unet.json}"
VARIANTS="${VARIANTS:-float32:1 bfloat16:1 float32:2 bfloat16:2}"
BASELINE_VARIANT="${BASELINE_VARIANT:-float32:1}"
OUT="${OUT:-docs/results/training-speed.jsonl}"
command -v jq >/dev/null || { echo "needs jq (apt-get install jq)" >&2; exit 127; }
[ -f data/emoji/google/emoji.json ] || scripts/fetch-emoji.sh google
./edgegen --version >/dev/null   # builds if needed
. scripts/tcmalloc.sh
DEFAULT_MALLOC=system   # what ./edgegen uses unless told: tcmalloc when it finds the library
[ -n "$(tcmalloc_path)" ] && DEFAULT_MALLOC=tcmalloc
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

config() {  # config FILE PRECISION WORKERS OUT_DIR [POOL]: a 60-step copy, its relative paths made absolute
  local base; base="$(cd "$(dirname "$1")" && pwd)"
  jq --arg base "$base" --arg p "$2" --argjson w "$3" --arg out "$4" --arg pool "${5:-}" '
    def abs: if startswith("/") then . else $base + "/" + . end;
    .output = $out | .trainer.steps = 60 | .trainer.precision = $p | .trainer.workers = $w
    | if .autoencoder then .autoencoder |= abs else . end
    | if .init then .init |= abs else . end
    | if .data.emoji_dir then .data.emoji_dir |= abs else . end
    | if $pool != "" and .stage == "unet" then .data.pool = ($pool | tonumber) else . end' "$1"
}

run() {  # run CONFIG VARIANT BUILD(current|baseline) ROUND
  local name stage p w pool malloc denormals warmer
  IFS=: read -r p w pool malloc denormals warmer <<< "$2"
  malloc="${malloc:-$DEFAULT_MALLOC}"
  denormals="${denormals:-flush}"
  warmer="${warmer:-on}"
  [ "$3" = baseline ] && denormals=keep && warmer=off   # older builds have neither
  if [ "$malloc" = tcmalloc ] && [ "$DEFAULT_MALLOC" != tcmalloc ]; then
    echo "variant $2 needs tcmalloc, which the launcher did not find (apt-get install libtcmalloc-minimal4)" >&2; exit 1
  fi
  name="$(basename "$(dirname "$1")")-$(basename "$1" .json)"
  stage="$(jq -r .stage "$1")"
  local dir="$WORK/$name-$p-$w-${pool:-x}-$malloc-$denormals-$warmer-$3-$4" cfg="$WORK/$name-$p-$w-${pool:-x}-$malloc-$denormals-$warmer-$3-$4.json"
  config "$1" "$p" "$w" "$dir" "$pool" > "$cfg"
  if [ "$3" = current ]; then
    EDGEGEN_MALLOC="$malloc" OMP_WAIT_POLICY=PASSIVE EDGEGEN_JAVA_OPTS="-Dai.djl.pytorch.num_threads=2 -Dedgegen.denormals=$denormals -Dedgegen.pageWarmer=$warmer" \
      ./edgegen train "$stage" --config "$cfg" > "$dir.log" 2>&1
  else
    malloc=system
    [ "$w" = 1 ] && jq 'del(.trainer.workers)' "$cfg" > "$cfg.tmp" && mv "$cfg.tmp" "$cfg"   # an older build may not know the key
    OMP_WAIT_POLICY=PASSIVE java --add-modules jdk.incubator.vector -Dai.djl.pytorch.num_threads=2 \
      -cp "$BASELINE_JAR:target/lib/*" dev.edgegen.cli.Main train "$stage" --config "$cfg" > "$dir.log" 2>&1
  fi
  tail -1 "$dir/log.jsonl" | jq -c --arg c "$name" --arg p "$p" --argjson w "$w" --arg b "$3" --argjson r "$4" \
    --arg pool "$pool" --arg malloc "$malloc" --arg den "$denormals" --arg warm "$warmer" '{config: $c, precision: $p, workers: $w, build: $b, round: $r, malloc: $malloc, denormals: $den, warmer: $warm}
      + (if $pool != "" then {pool: ($pool | tonumber)} else {} end) + .' | tee -a "$OUT"
}

: > "$OUT"
for cfg in $CONFIGS; do
  for r in $(seq 1 "$ROUNDS"); do
    [ -n "${BASELINE_JAR:-}" ] && run "$cfg" "$BASELINE_VARIANT" baseline "$r"
    for v in $VARIANTS; do run "$cfg" "$v" current "$r"; done
  done
done

# the median of each variant's runs and its ratio to the current build's float32 with one worker (and the launcher's allocator)
jq -rs --arg malloc "$DEFAULT_MALLOC" '
def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
group_by([.config, .build, .precision, .workers, .pool, .malloc, .denormals, .warmer])
| map({config: .[0].config, build: .[0].build, precision: .[0].precision, workers: .[0].workers, pool: .[0].pool,
       malloc: (.[0].malloc // "system"), denormals: (.[0].denormals // "keep"), warmer: (.[0].warmer // "off"), runs: length,
       it_s: (map(.it_s) | median), all: (map(.it_s * 1000 | round / 1000) | map(tostring) | join(", "))})
| (map(select(.build == "current" and .precision == "float32" and .workers == 1 and .pool == null and .malloc == $malloc
                 and .denormals == "flush" and .warmer == "on"))
   | map({key: .config, value: .it_s}) | from_entries) as $ref
| "| stage config | build | precision | workers | pool | malloc | denormals | page warmer | it/s, median | runs (it/s) | vs current float32, 1 worker |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
  (.[] | "| \(.config) | \(.build) | \(.precision) | \(.workers) | \(.pool // "") | \(.malloc) | \(.denormals) | \(.warmer) | \(.it_s * 1000 | round / 1000) | \(.all)"
         + " | \(if $ref[.config] then (.it_s / $ref[.config] * 100 | round / 100 | tostring) + "x" else "" end) |")
' "$OUT"
