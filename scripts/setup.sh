#!/usr/bin/env bash
# Create (or reuse) the project's virtualenv in .venv and install pgzoo with every extra.
# Sourced by the other scripts; safe to run again (it only installs what is missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
python -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
# torch first and pinned: this CPU wheel is on disk; an unpinned torch would download a CUDA build.
python -m pip install --quiet "torch==2.13.0" 2>&1 | grep -v "is ignored" || true
python -m pip install --quiet -e ".[test,extra,ray,atari]" 2>&1 | grep -v "is ignored" || true
python -c "import pgzoo, torch, stable_baselines3; print(f'pgzoo {pgzoo.__version__}, torch {torch.__version__}, SB3 {stable_baselines3.__version__}')"
