#!/usr/bin/env bash
# Trains the evaluation networks (fixed once, then committed under models/eval/ and never retrained
# during experiments) and prints their validation:
#   scene classifier  -> models/eval/scene_classifier.safetensors  (prompt-following accuracy)
#   contrastive model -> models/eval/contrastive.safetensors       (CLIP score, FID features)
# Usage: scripts/train-eval-models.sh [classifier_steps] [contrastive_steps]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f data/emoji/google/emoji.json ] || scripts/fetch-emoji.sh google
mvn -B -q compile
CP="target/classes:$(mvn -B -q dependency:build-classpath -Dmdep.outputFile=/dev/stdout)"
mkdir -p models/eval runs
java -cp "$CP" dev.edgegen.eval.SceneClassifierTraining runs/scene-classifier models/eval/scene_classifier.safetensors "${1:-1500}"
java -cp "$CP" dev.edgegen.eval.ContrastiveTraining runs/contrastive models/eval/contrastive.safetensors "${2:-600}"
