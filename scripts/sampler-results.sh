#!/usr/bin/env bash
# Regenerates docs/results/samplers.jsonl: the sampler tests' golden comparisons against
# diffusers' scheduler tests and the per-step overhead of each sampler.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/results
mvn -B test -Dtest='dev.edgegen.sampling.*Test' | grep -E '^\{"(golden|step_overhead)"' | sort > docs/results/samplers.jsonl
cat docs/results/samplers.jsonl
