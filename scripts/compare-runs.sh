#!/usr/bin/env bash
# Markdown table comparing two training runs' logs: the mean logged loss and gradient norm over windows of
# WINDOW steps, up to the last full window both logs reach, and the relative difference of the losses.
# Usage: scripts/compare-runs.sh RUN_A RUN_B [WINDOW]   (RUN = a run directory or its log.jsonl; WINDOW default 100)
set -euo pipefail
log() { [ -d "$1" ] && echo "$1/log.jsonl" || echo "$1"; }
A="$(log "$1")"; B="$(log "$2")"; W="${3:-100}"
for f in "$A" "$B"; do [ -f "$f" ] || { echo "no log: $f" >&2; exit 2; }; done
command -v jq >/dev/null || { echo "needs jq (apt-get install jq)" >&2; exit 127; }
jq -rn --argjson w "$W" --arg a "$1" --arg b "$2" --slurpfile xs "$A" --slurpfile ys "$B" '
  ($xs | map(select(.step != null))) as $x | ($ys | map(select(.step != null))) as $y
  | (([($x | map(.step) | max), ($y | map(.step) | max)] | min) / $w | floor * $w) as $upto
  | def win($r): $r | map(select(.step <= $upto)) | group_by(((.step - 1) / $w) | floor)
      | map({to: (map(.step) | max), loss: (map(.loss) | add / length), grad: (map(.grad_norm) | add / length)});
  (win($x)) as $p | (win($y)) as $q
  | "| steps | loss, \($a) | loss, \($b) | difference | grad norm, \($a) | grad norm, \($b) |",
    "|---|---|---|---|---|---|",
    (range(0; [$p, $q] | map(length) | min) as $i
     | "| ≤ \($p[$i].to) | \($p[$i].loss * 1e4 | round / 1e4) | \($q[$i].loss * 1e4 | round / 1e4)"
       + " | \((($q[$i].loss - $p[$i].loss) / $p[$i].loss * 1000 | round) / 10 | if . == 0 then "0.0" else tostring end)% | \($p[$i].grad * 1e3 | round / 1e3)"
       + " | \($q[$i].grad * 1e3 | round / 1e3) |")
'
