#!/usr/bin/env bash
# Main job: set up, then train a tuned REINFORCE agent on CartPole-v1 with the zoo, evaluate it and package it
# for the Hugging Face Hub.
#
# With a Hub token (HF_TOKEN or `hf auth login`) the agent is uploaded to $HF_ORG/reinforce-CartPole-v1;
# without one, `pgzoo push --dry-run` writes exactly what would be uploaded into $HUB_DIR and nothing leaves
# the machine. Environment knobs: LOGS (default logs), SEED (default 0), HF_ORG (default pgzoo),
# HUB_DIR (default hub/reinforce-CartPole-v1), N_TIMESTEPS (default: the tuned value in hyperparams/reinforce.yml).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$ROOT/scripts/setup.sh"
cd "$ROOT"

LOGS="${LOGS:-logs}"
SEED="${SEED:-0}"
HF_ORG="${HF_ORG:-pgzoo}"
HUB_DIR="${HUB_DIR:-hub/reinforce-CartPole-v1}"
BUDGET=()
if [ -n "${N_TIMESTEPS:-}" ]; then BUDGET=(-n "$N_TIMESTEPS"); fi

echo "== Training REINFORCE on CartPole-v1 (hyperparams/reinforce.yml, seed $SEED)"
pgzoo train --algo reinforce --env CartPole-v1 -f "$LOGS" --seed "$SEED" "${BUDGET[@]}" \
    --eval-freq 20000 --eval-episodes 5 --final-eval-episodes 10 --verbose 0

echo "== Evaluating the trained agent and packaging it for the Hub"
# $HUB_DIR is this script's output: each run packages into a new folder (push wants a new or empty one) and,
# once that worked, puts it in place of the previous run's package.
PACKAGE="$HUB_DIR.new"
rm -rf "$PACKAGE"
if python -c "import sys, huggingface_hub; sys.exit(0 if huggingface_hub.get_token() else 1)"; then
    pgzoo push --algo reinforce --env CartPole-v1 -f "$LOGS" --org "$HF_ORG" --local-dir "$PACKAGE" \
        --n-eval-episodes 10 -m "REINFORCE on CartPole-v1, trained with pgzoo's zoo"
else
    echo "No Hugging Face token found (HF_TOKEN / hf auth login): packaging into $HUB_DIR without uploading"
    pgzoo push --algo reinforce --env CartPole-v1 -f "$LOGS" --org "$HF_ORG" --local-dir "$PACKAGE" \
        --n-eval-episodes 10 --dry-run
fi
rm -rf "$HUB_DIR"
mv "$PACKAGE" "$HUB_DIR"
echo "== Results"
cat "$HUB_DIR/results.json"
echo
