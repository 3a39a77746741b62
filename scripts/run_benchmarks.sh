#!/usr/bin/env bash
# Reproduce benchmarks/benchmark.md: run every benchmark row with 3 seeds (6 for the two rows that sit at their bar
# within noise: A3C on LunarLander-v3 and BipedalWalker-v3), then regenerate the report and plots.
#
#   scripts/run_benchmarks.sh                       # required rows, then the reference baselines
#   OPTIONAL=1 scripts/run_benchmarks.sh            # also BipedalWalker-v3, HalfCheetah-v5, Hopper-v5: the whole table
#   RAY_ADDRESS=auto scripts/run_benchmarks.sh      # spread the runs over a Ray cluster as tasks
#   JOBS=4 BASELINES=0 scripts/run_benchmarks.sh    # 4 local processes, skip the A2C / DDPG baseline runs
#
# Resumable: each finished run is saved as benchmarks/results/<algo>_<env>_n<steps>_seed<k>.json and skipped next
# time, so the script can be stopped (Ctrl-C) and started again, across sessions, without losing finished runs.
# Nothing in the table is typed by hand: benchmark.md is generated from those files only.
#
# Budgets: each run trains for the n_timesteps of its tuned entry in hyperparams/<algo>.yml (stated in the table's
# Timesteps column). A row counts as "within reference" only with no more steps than the RL Zoo used:
#   REINFORCE, A3C (vs A2C): CartPole-v1 500k, Acrobot-v1 500k, LunarLander-v3 200k, Pendulum-v1 1M,
#                            BipedalWalker-v3 5M, HalfCheetah-v5 1M, Hopper-v5 1M
#   DPG (vs DDPG):           Pendulum-v1 20k, MountainCarContinuous-v0 300k, LunarLanderContinuous-v3 300k,
#                            BipedalWalker-v3 1M (HalfCheetah-v5 / Hopper-v5: no DDPG result; TD3's, 1M, for context)
# Every run then gets a deterministic final evaluation of 20 episodes on a separate env and a 20-point learning curve
# (5 episodes per point). Runs use one torch thread each, on CPU.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
if [ "${SKIP_SETUP:-0}" = "1" ]; then
    source "$ROOT/.venv/bin/activate"  # environment already set up: install nothing
else
    source "$ROOT/scripts/setup.sh"
fi
cd "$ROOT"

SEEDS="${SEEDS:-3}"
JOBS="${JOBS:-$(nproc)}"
BASELINES="${BASELINES:-1}"
OPTIONAL="${OPTIONAL:-0}"
RESULTS="${RESULTS:-benchmarks/results}"
REPORT="${REPORT:-benchmarks/benchmark.md}"
LOGS="${LOGS:-logs/benchmark}"
# Smoke test of this script only, e.g. EXTRA="-n 300 --eval-episodes 2" RESULTS=/tmp/r REPORT=/tmp/r/b.md LOGS=/tmp/l
# (such numbers must never reach benchmarks/).
read -r -a extra <<< "${EXTRA:-}"

common=(--results-dir "$RESULTS" -f "$LOGS" --no-report "${extra[@]}")
seeds=(--seeds "$SEEDS")
# Rows whose mean sits at their bar within noise get twice the seeds, to narrow the estimate.
more_seeds=(--seeds "$((SEEDS * 2))")
if [ -n "${RAY_ADDRESS:-}" ]; then
    # Ray reserves each run's CPUs (A3C: its n_workers), so every group can share the cluster.
    parallel=(--ray-address "$RAY_ADDRESS")
    a3c_parallel=(--ray-address "$RAY_ADDRESS")
else
    parallel=(--jobs "$JOBS")
    # A3C already runs n_workers processes per run: one run at a time keeps its steps/s meaningful.
    a3c_parallel=(--jobs 1)
fi

# A failed group (e.g. an algorithm not finished yet) does not stop the others; the exit status reports it.
status=0
bench() { pgzoo benchmark "$@" || status=1; }

# Required rows (issue 6), cheapest first so that a short session already fills part of the table.
bench --algos dpg --envs Pendulum-v1 MountainCarContinuous-v0 LunarLanderContinuous-v3 "${seeds[@]}" "${common[@]}" "${parallel[@]}"
bench --algos reinforce --envs CartPole-v1 Acrobot-v1 LunarLander-v3 "${seeds[@]}" "${common[@]}" "${parallel[@]}"
bench --algos a3c --envs CartPole-v1 Acrobot-v1 Pendulum-v1 "${seeds[@]}" "${common[@]}" "${a3c_parallel[@]}"
bench --algos a3c --envs LunarLander-v3 "${more_seeds[@]}" "${common[@]}" "${a3c_parallel[@]}"

if [ "$BASELINES" = "1" ]; then
    # The reference algorithms trained here too, so that their curves share the plots (pairs without a tuned
    # entry in hyperparams/ are skipped with a message).
    bench --algos a2c --envs CartPole-v1 Acrobot-v1 LunarLander-v3 Pendulum-v1 "${seeds[@]}" "${common[@]}" "${parallel[@]}"
    bench --algos ddpg --envs Pendulum-v1 MountainCarContinuous-v0 LunarLanderContinuous-v3 "${seeds[@]}" "${common[@]}" "${parallel[@]}"
fi

if [ "$OPTIONAL" = "1" ]; then
    # As compute allows: millions of steps per seed (MuJoCo envs need gymnasium[mujoco]).
    bench --algos dpg --envs BipedalWalker-v3 HalfCheetah-v5 Hopper-v5 "${seeds[@]}" "${common[@]}" "${parallel[@]}"
    bench --algos a3c --envs HalfCheetah-v5 Hopper-v5 "${seeds[@]}" "${common[@]}" "${a3c_parallel[@]}"
    bench --algos a3c --envs BipedalWalker-v3 "${more_seeds[@]}" "${common[@]}" "${a3c_parallel[@]}"
fi

# The table, notes and plots, from every saved run; the published results' table is also copied into README.md
# between its benchmark markers (a smoke test's numbers with RESULTS=elsewhere must not land there).
readme=()
if [ "$RESULTS" = "benchmarks/results" ] && grep -q "benchmark-table:start" README.md 2>/dev/null; then
    readme=(--readme README.md)
fi
pgzoo benchmark --report --results-dir "$RESULTS" --output "$REPORT" "${readme[@]}"
exit "$status"
