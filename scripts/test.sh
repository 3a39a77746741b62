#!/usr/bin/env bash
# Set up the environment, then run the test suite (slow tests excluded; pass `-m slow` to run them).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
python -m pytest "$@"
