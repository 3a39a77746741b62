"""
The ``pgzoo`` command line (also ``python -m pgzoo``): every command's parser, and the dispatch to the module that
does the work (train, enjoy, record-video, push, pull, benchmark, tune, publish). No command module imports this one.

Every bad input raises a :class:`~pgzoo.zoo.errors.ZooError`; :func:`main` prints it as one ``error: ...`` line and
exits with status 2 (argparse's own status for usage errors), never with a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pgzoo.zoo.algos import ALGOS, PGZOO_ALGOS
from pgzoo.zoo.argtypes import non_negative_int, positive_int
from pgzoo.zoo.benchmark.plan import (
    DEFAULT_CURVE_EPISODES,
    DEFAULT_CURVE_POINTS,
    DEFAULT_EVAL_EPISODES,
    DEFAULT_RESUME_FREQ,
    DEFAULT_SEEDS,
)
from pgzoo.zoo.errors import UnknownEnvError, ZooError

if TYPE_CHECKING:
    from pgzoo.zoo.enjoy import Agent

_ALGO_HELP = (
    f"algorithm: {', '.join(PGZOO_ALGOS)} (pgzoo) or an SB3 / sb3-contrib baseline: "
    f"{', '.join(name for name in ALGOS if name not in PGZOO_ALGOS)}"
)

_TRAIN_EXAMPLES = """\
hyperparameters:
  The env's entry is read from the packaged hyperparams/<algo>.yml (shipped for reinforce, dpg, a3c and for the
  baselines a2c, ppo, dqn, ddpg, td3, sac, trpo) or from --hyperparams FILE (required for other baselines).
  Files use rl-zoo3's format; strings such as policy_kwargs are parsed by a restricted evaluator, never eval().

output:
  logs/<algo>/<env>_<run>/ holds <env>.zip, best_model.zip, evaluations.npz, monitor CSVs, checkpoints and
  <env>/{config.yml,args.yml,vecnormalize.json}. Ctrl-C stops training and saves the model trained so far.

examples:
  pgzoo train --algo reinforce --env CartPole-v1
  pgzoo train --algo a3c --env CartPole-v1 --n-workers 4 --seed 0 -f logs
  pgzoo train --algo a2c --env CartPole-v1 -n 20000 --eval-freq 5000 --save-freq 10000
  pgzoo train --algo ppo --env Pendulum-v1 -params learning_rate:3e-4 "policy_kwargs:dict(net_arch=[64, 64])"
  pgzoo train --algo sac --env MountainCarContinuous-v0 --hyperparams my_sac.yml -tb runs/
"""

_ENJOY_EXAMPLES = """\
examples:
  pgzoo enjoy --algo reinforce --env CartPole-v1 -f logs
  pgzoo enjoy --algo a2c --env CartPole-v1 -f logs --exp-id 2 --load-best -n 2000 --no-render
  pgzoo enjoy --algo ppo --env Pendulum-v1 -f logs --stochastic
"""

_VIDEO_EXAMPLES = """\
Rendering is headless (rgb_array): no display is needed. Needs imageio and imageio-ffmpeg.

examples:
  pgzoo record-video --algo reinforce --env CartPole-v1 -f logs
  pgzoo record-video --algo a2c --env CartPole-v1 -f logs -n 500 -o videos/a2c-cartpole.mp4
"""

_PUSH_EXAMPLES = """\
The token is read from HF_TOKEN or from `hf auth login` (huggingface-cli login); it is never written anywhere.
The Hub endpoint is HF_ENDPOINT (default https://huggingface.co). Without a token, package locally with
--dry-run --local-dir DIR (a new or empty folder): it then holds exactly what would be uploaded. Files a
previous push left in the repository that this agent lacks (vecnormalize.json, replay.mp4) are deleted.

examples:
  pgzoo push --algo reinforce --env CartPole-v1 -f logs --org my-org
  pgzoo push --algo a2c --env CartPole-v1 -f logs --repo-id my-org/a2c-CartPole-v1 -m "first agent"
  pgzoo push --algo reinforce --env CartPole-v1 -f logs --dry-run --local-dir hub/reinforce-CartPole-v1
"""

_PULL_EXAMPLES = """\
Downloads into logs/<algo>/<env>_<run>/ so that `pgzoo enjoy` runs it. Nothing is unpickled when loading it
unless --trust-remote-code is passed to enjoy / record-video. Repos pushed by rl-zoo3 work too.

examples:
  pgzoo pull --repo-id my-org/reinforce-CartPole-v1 -f logs
  pgzoo pull --repo-id sb3/a2c-CartPole-v1 -f logs && pgzoo enjoy --algo a2c --env CartPole-v1 -f logs
  pgzoo pull --repo-id sb3/ppo-LunarLander-v2 -f logs    # a retired env id: enjoy plays it in LunarLander-v3
  pgzoo pull --repo-id my-org/my-agent --algo ppo --env Pendulum-v1 --revision v1.0
"""

_TUNE_EXAMPLES = """\
examples:
  pgzoo tune --algo reinforce --env Acrobot-v1 --n-trials 50 -n 100000
  pgzoo tune --algo dpg --env LunarLanderContinuous-v3 --storage sqlite:///tune.db --n-trials 10   # resumable
  pgzoo tune --algo a3c --env Pendulum-v1 --sampler random --pruner none --timeout 3600
  pgzoo tune --algo a3c --env LunarLander-v3 --n-seeds 2 --n-trials 30   # each trial scored on seeds 0 and 1
The best entry is written as YAML (--output); merge it into hyperparams/<algo>.yml, then benchmark it.
An existing --output file is replaced only by a result at least as good for the same algorithm, env and budget (a resumed
--storage study updates it); otherwise it is kept and the entry goes to <name>.1.yml (the next free number).
"""

_PUBLISH_EXAMPLES = """\
Every <algo>/<env>_<N> of the folder (its latest run with a model) goes to ORG/<algo>-<env>, packaged as by
`pgzoo push` (model, config.yml, env_kwargs.yml, args.yml, train_eval_metrics.zip, statistics as JSON,
results.json, replay.mp4, model card). An agent whose run holds a results.json is published with that
evaluation. A repository already holding the same files is skipped, so running publish again uploads nothing.
An agent that fails is reported in the final table and the others go on (exit status 1).
The token is read from HF_TOKEN or `hf auth login`; the endpoint from HF_ENDPOINT.

examples:
  pgzoo publish --org my-org                                   # every agent of agents/
  pgzoo publish --org my-org -f agents --only dpg/Pendulum-v1 a3c/CartPole-v1
  pgzoo publish --org my-org --dry-run hub/agents              # write the packages, upload nothing
"""

_BENCHMARK_EXAMPLES = """\
Each finished run is saved as <results-dir>/<algo>_<env>_n<steps>_seed<k>.json; runs whose file exists are
skipped, so an interrupted benchmark resumes where it stopped. A run in progress keeps a checkpoint every
--resume-freq steps and on Ctrl-C (in -f DIR/resume/): a long run continues from it in the next invocation.
Models and evaluations.npz go to -f DIR.
The report is regenerated from every saved run in --results-dir. It goes beside that folder unless --output says
otherwise: <results-dir>/../benchmark.md and <results-dir>/../plots/<env>.png (by default benchmarks/benchmark.md
and benchmarks/plots/, the published report: give a --results-dir of your own for trial runs).

examples:
  pgzoo benchmark                                     # pgzoo's required, then optional rows, 3 seeds, tuned budgets
  pgzoo benchmark --algos reinforce a2c --envs CartPole-v1 --seeds 3 --jobs 2
  pgzoo benchmark --algos a3c --envs Pendulum-v1 --ray-address auto
  pgzoo benchmark --algos reinforce --envs CartPole-v1 -n 5000 --eval-episodes 5 --results-dir /tmp/b/results
  pgzoo benchmark --report                            # only regenerate benchmark.md and the plots
"""


def _add_run_selection(parser: argparse.ArgumentParser, *, required_env: bool = True) -> None:
    parser.add_argument("--algo", required=True, help=_ALGO_HELP)
    parser.add_argument("--env", required=required_env, help="Gymnasium env id, e.g. CartPole-v1")
    parser.add_argument("-f", "--folder", default="logs", help="root of the logs layout (default: logs)")
    parser.add_argument(
        "--exp-id", type=int, default=0, help="run number <env>_<N>; 0 (default) is the latest run that saved a model"
    )
    parser.add_argument("--load-best", action="store_true", help="use best_model.zip instead of the final model")
    parser.add_argument("--load-checkpoint", type=int, help="use the checkpoint saved after this many steps")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gym-packages", nargs="+", default=[], help="modules to import that register envs (e.g. ale_py)")
    parser.add_argument("--device", default="auto", help="torch device: auto (default), cpu, cuda")


def _add_trust(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="allow unpickling files of a run pulled from the Hub (runs code from that file: only for trusted sources)",
    )


def _add_benchmark_parser(commands: Any) -> None:
    # The defaults are the benchmark's own (pgzoo.zoo.benchmark.plan), so the help can't drift from plan_runs().
    parser = commands.add_parser(
        "benchmark",
        help="train (algo, env, seed) runs with tuned hyperparameters and write their report (benchmark.md)",
        epilog=_BENCHMARK_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--algos", nargs="+", help="algorithms (default: reinforce dpg a3c)")
    parser.add_argument("--envs", nargs="+", help="env ids (default: each algorithm's benchmark rows)")
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=DEFAULT_SEEDS,
        help=f"number of seeds per row, from --first-seed (default {DEFAULT_SEEDS})",
    )
    parser.add_argument(
        "--first-seed", type=int, default=0, help="start the seeds here: K..K+N-1 (split a row between machines)"
    )
    parser.add_argument("-n", "--n-timesteps", type=positive_int, help="budget override (default: the file's n_timesteps)")
    parser.add_argument(
        "--eval-episodes",
        type=positive_int,
        default=DEFAULT_EVAL_EPISODES,
        help=f"episodes of the final evaluation (deterministic; Atari: sampled; default {DEFAULT_EVAL_EPISODES})",
    )
    parser.add_argument(
        "--eval-freq", type=positive_int, help=f"env steps between curve points (default: {DEFAULT_CURVE_POINTS} points)"
    )
    parser.add_argument(
        "--curve-episodes",
        type=positive_int,
        default=DEFAULT_CURVE_EPISODES,
        help=f"episodes per curve point (default {DEFAULT_CURVE_EPISODES})",
    )
    parser.add_argument("-f", "--folder", default="logs/benchmark", help="logs folder of the runs (default logs/benchmark)")
    parser.add_argument("--results-dir", default="benchmarks/results", help="per-run JSON files (default benchmarks/results)")
    parser.add_argument(
        "--output", help="report file; its plots go to plots/ beside it (default: benchmark.md beside --results-dir)"
    )
    parser.add_argument("--readme", help="also replace the table between the benchmark markers of this README")
    parser.add_argument("--jobs", type=positive_int, default=1, help="local processes (default 1: one run after another)")
    parser.add_argument("--ray", action="store_true", help="run each run as a task of a local Ray instance")
    parser.add_argument("--ray-address", help="run each run as a task of this Ray cluster (e.g. auto, ray://host:10001)")
    parser.add_argument("--overwrite", action="store_true", help="run again even if the run's result file exists")
    parser.add_argument("--report", action="store_true", help="only regenerate the report from the saved runs")
    parser.add_argument("--no-report", action="store_true", help="do not regenerate the report after the runs")
    parser.add_argument("--hyperparams", "-conf", dest="hyperparams_file", metavar="FILE", help="rl-zoo3 style YAML file")
    parser.add_argument(
        "--resume-freq",
        type=int,
        default=DEFAULT_RESUME_FREQ,
        help=f"env steps between checkpoints a stopped run continues from (default {DEFAULT_RESUME_FREQ}; 0: only on Ctrl-C)",
    )
    parser.add_argument("--threads", type=positive_int, default=1, help="torch threads per run (default 1)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu: small MLPs are fastest there)")
    parser.add_argument("--verbose", type=int, default=1, help="0 quiet, 1 one line per run (default)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pgzoo`` and its subcommands."""
    from pgzoo.version import __version__

    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="pgzoo",
        description="Train, evaluate, record and share policy-gradient agents (REINFORCE, DPG, A3C) and SB3 baselines.",
        epilog="Run `pgzoo <command> --help` for a command's options and examples.",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"pgzoo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)

    train = commands.add_parser("train", help="train an agent", epilog=_TRAIN_EXAMPLES, formatter_class=formatter)
    train.add_argument("--algo", required=True, help=_ALGO_HELP)
    train.add_argument("--env", required=True, help="Gymnasium env id, e.g. CartPole-v1")
    train.add_argument("-n", "--n-timesteps", type=positive_int, help="training steps (overrides the file's n_timesteps)")
    train.add_argument("-f", "--folder", default="logs", help="root of the logs layout (default: logs)")
    train.add_argument("--seed", type=non_negative_int, help="random seed (default: drawn at random, saved in args.yml)")
    train.add_argument("--eval-freq", type=int, default=10_000, help="evaluate every N steps; <= 0 disables (default 10000)")
    train.add_argument("--eval-episodes", type=positive_int, default=5, help="episodes per evaluation (default 5)")
    train.add_argument(
        "--final-eval-episodes",
        type=non_negative_int,
        default=10,
        help="episodes of the evaluation after training (default 10; 0 skips it)",
    )
    train.add_argument("--save-freq", type=int, default=-1, help="save a checkpoint every N steps; <= 0 disables (default)")
    train.add_argument("--n-workers", type=positive_int, help="worker processes (a3c)")
    train.add_argument(
        "-params",
        "--params",
        dest="params",
        nargs="+",
        metavar="KEY:VALUE",
        default=[],
        help="override hyperparameters, e.g. -params n_envs:4 learning_rate:lin_1e-3",
    )
    train.add_argument("--hyperparams", "-conf", dest="hyperparams_file", metavar="FILE", help="rl-zoo3 style YAML file")
    train.add_argument("-tb", "--tensorboard-log", metavar="DIR", help="TensorBoard log folder")
    train.add_argument(
        "--verbose",
        type=int,
        default=1,
        help="0 quiet, 1 training logs (default), 2 also the traceback behind an error (an env's failure, say)",
    )
    train.add_argument(
        "--progress-bar",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: on when the terminal is interactive)",
    )
    train.add_argument("--stochastic-eval", action="store_true", help="evaluate with stochastic actions (default for Atari)")
    _add_common(train)

    enjoy = commands.add_parser("enjoy", help="run a trained agent", epilog=_ENJOY_EXAMPLES, formatter_class=formatter)
    _add_run_selection(enjoy)
    enjoy.add_argument("-n", "--n-timesteps", type=positive_int, default=1000, help="steps to run (default 1000)")
    enjoy.add_argument("--no-render", action="store_true", help="do not open a window")
    enjoy.add_argument(
        "--stochastic", action="store_true", help="sample actions instead of taking the most likely (default for Atari)"
    )
    enjoy.add_argument(
        "--deterministic", action="store_true", help="take the most likely actions in Atari too (the zoo samples there)"
    )
    enjoy.add_argument("--seed", type=non_negative_int, default=0, help="env seed (default 0)")
    _add_trust(enjoy)
    _add_common(enjoy)

    video = commands.add_parser(
        "record-video", help="record an mp4 of a trained agent", epilog=_VIDEO_EXAMPLES, formatter_class=formatter
    )
    _add_run_selection(video)
    video.add_argument("-n", "--n-timesteps", type=positive_int, default=1000, help="steps to record (default 1000)")
    video.add_argument("-o", "--output", help="mp4 file (default: <run>/videos/<algo>-<env>.mp4)")
    video.add_argument("--stochastic", action="store_true", help="sample actions")
    video.add_argument("--seed", type=non_negative_int, default=0, help="env seed (default 0)")
    _add_trust(video)
    _add_common(video)

    push = commands.add_parser(
        "push", help="package and upload an agent to the Hub", epilog=_PUSH_EXAMPLES, formatter_class=formatter
    )
    _add_run_selection(push)
    push.add_argument("--repo-id", help="ORG/NAME of the Hub repository")
    push.add_argument(
        "--org", help="organization or user: the repository is then ORG/<algo>-<env> (a dry run defaults to YOUR_ORG)"
    )
    push.add_argument("-m", "--message", help="commit message")
    push.add_argument("--n-eval-episodes", type=positive_int, default=10, help="evaluation episodes (default 10)")
    push.add_argument("--stochastic", action="store_true", help="evaluate with stochastic actions")
    push.add_argument("--video-length", type=int, default=1000, help="steps of replay.mp4; 0 skips it (default 1000)")
    push.add_argument("--local-dir", help="also keep the packaged repository in this folder (new or empty)")
    push.add_argument("--dry-run", action="store_true", help="only package into --local-dir; upload nothing, no token needed")
    push.add_argument("--private", action="store_true", help="create the repository as private")
    _add_trust(push)
    _add_common(push)

    pull = commands.add_parser(
        "pull", help="download an agent from the Hub into the logs layout", epilog=_PULL_EXAMPLES, formatter_class=formatter
    )
    pull.add_argument("--repo-id", required=True, help="ORG/NAME of the Hub repository")
    pull.add_argument("-f", "--folder", default="logs", help="root of the logs layout (default: logs)")
    pull.add_argument("--algo", help="algorithm, when the repository name is not <algo>-<env>")
    pull.add_argument("--env", help="env id, when the repository name is not <algo>-<env>")
    pull.add_argument("--revision", help="branch, tag or commit")
    pull.add_argument("--filename", help="model zip to use when the repository has several")
    _add_benchmark_parser(commands)
    _add_tune(commands)
    _add_publish(commands)
    return parser


def _add_tune(subparsers: Any) -> None:
    """
    Register ``pgzoo tune``.

    :param subparsers: The object returned by ``ArgumentParser.add_subparsers``.
    """
    from pgzoo.zoo.tune import SEARCH_SPACES

    parser = subparsers.add_parser(
        "tune",
        help="search hyperparameters with Optuna (reinforce, dpg, a3c)",
        epilog=_TUNE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--algo", required=True, help=f"algorithm: {', '.join(SEARCH_SPACES)}")
    parser.add_argument("--env", required=True, help="Gymnasium env id")
    parser.add_argument("--n-trials", type=int, default=20, help="trials to run (default 20)")
    parser.add_argument("-n", "--n-timesteps", type=int, help="training steps per trial (default: the entry's)")
    parser.add_argument("--n-evaluations", type=int, default=5, help="curve points reported to the pruner (default 5)")
    parser.add_argument("--eval-episodes", type=int, default=10, help="episodes per evaluation (default 10)")
    parser.add_argument("--sampler", default="tpe", choices=["tpe", "random"], help="Optuna sampler (default tpe)")
    parser.add_argument("--pruner", default="median", choices=["median", "none"], help="Optuna pruner (default median)")
    parser.add_argument("--n-startup-trials", type=int, default=5, help="random, unpruned trials first (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sampler and of every trial (default 0)")
    parser.add_argument(
        "--n-seeds", type=int, default=1, help="runs per trial (seeds SEED, SEED+1, ...), scored by their mean (default 1)"
    )
    parser.add_argument("--storage", help="Optuna storage URL to resume or share the study, e.g. sqlite:///tune.db")
    parser.add_argument("--study-name", help="study name in the storage (default <algo>-<env>)")
    parser.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    parser.add_argument("-f", "--folder", default="logs/tune", help="trials' logs folder (default logs/tune)")
    parser.add_argument("--hyperparams", "-conf", dest="hyperparams_file", metavar="FILE", help="rl-zoo3 style YAML file")
    parser.add_argument(
        "-o",
        "--output",
        help="YAML file for the best entry (default <folder>/<algo>_<env>_best.yml); kept if it holds a better result",
    )
    parser.add_argument("--verbose", type=int, default=1, help="0 quiet, 1 one line per trial (default)")


def _add_publish(subparsers: Any) -> None:
    """
    Register ``pgzoo publish``.

    :param subparsers: The object returned by ``ArgumentParser.add_subparsers``.
    """
    parser = subparsers.add_parser(
        "publish",
        help="push every agent of a logs folder (default agents/) to ORG/<algo>-<env> on the Hub",
        epilog=_PUBLISH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--org", required=True, help="Hugging Face organization or user")
    parser.add_argument("-f", "--folder", default="agents", help="logs folder of the agents (default: agents)")
    parser.add_argument("--only", nargs="+", metavar="ALGO/ENV", help="publish only these agents, e.g. dpg/Pendulum-v1")
    parser.add_argument("--dry-run", metavar="DIR", help="write the packages into DIR (new or empty); upload nothing")
    parser.add_argument(
        "--n-eval-episodes", type=positive_int, default=10, help="evaluation episodes of an agent without results.json"
    )
    parser.add_argument("--video-length", type=int, default=1000, help="steps of replay.mp4; 0 skips it (default 1000)")
    parser.add_argument("-m", "--message", help="commit message")
    parser.add_argument("--private", action="store_true", help="create new repositories as private")
    parser.add_argument("--device", default="auto", help="torch device (default auto)")


def _render_available() -> bool:
    # pygame's "human" mode needs a display; on a headless box enjoy still runs, without a window.
    return sys.platform != "linux" or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _cmd_train(args: argparse.Namespace) -> int:
    from pgzoo.common.utils import sigterm_raises
    from pgzoo.zoo.hyperparams import parse_overrides
    from pgzoo.zoo.train import train

    progress = sys.stderr.isatty() if args.progress_bar is None else args.progress_bar
    saved = {key: value for key, value in vars(args).items() if key not in ("func",)}
    # SIGTERM (`kill`, a scheduler's time limit) stops training as Ctrl-C does: the model trained so far is saved.
    with sigterm_raises(lambda signum: KeyboardInterrupt()):
        result = train(
            args.algo,
            args.env,
            seed=args.seed,
            log_folder=args.folder,
            hyperparams=parse_overrides(args.params),
            hyperparams_file=args.hyperparams_file,
            n_timesteps=args.n_timesteps,
            eval_freq=args.eval_freq,
            eval_episodes=args.eval_episodes,
            final_eval_episodes=args.final_eval_episodes,
            # Unless told, the env's protocol: Atari agents sample their actions, others take the most likely.
            deterministic_eval=False if args.stochastic_eval else None,
            save_freq=args.save_freq,
            n_workers=args.n_workers,
            device=args.device,
            tensorboard_log=args.tensorboard_log,
            verbose=args.verbose,
            progress_bar=progress,
            args_to_save=saved,
        )
    print(f"Run saved in {result.run_folder}")
    print(result.summary())
    # The model trained so far is saved, but a script must still see that the run did not finish.
    return 130 if result.interrupted else 0


def _load_selected_agent(args: argparse.Namespace, render_mode: str | None) -> Agent:
    """
    Load the agent that the options of ``_add_run_selection``, ``_add_trust`` and ``_add_common`` point at.

    :param args: Parsed arguments of ``enjoy`` or ``record-video``.
    :param render_mode: Render mode of the agent's env.
    :return: The loaded agent.
    """
    from pgzoo.zoo.enjoy import load_agent

    return load_agent(
        args.algo,
        args.env,
        args.folder,
        exp_id=args.exp_id,
        load_best=args.load_best,
        load_checkpoint=args.load_checkpoint,
        trust_remote_code=args.trust_remote_code,
        device=args.device,
        seed=args.seed,
        render_mode=render_mode,
    )


def _cmd_enjoy(args: argparse.Namespace) -> int:
    from pgzoo.zoo.enjoy import run_agent
    from pgzoo.zoo.envs import deterministic_eval_default

    render = not args.no_render
    if render and not _render_available():
        print("warning: no display found, running without rendering (use --no-render to silence this)")
        render = False
    agent = _load_selected_agent(args, render_mode="human" if render else None)
    print(f"Loaded {agent.model_path}")
    # As the RL Zoo plays and benchmarks them: Atari agents sample their actions unless told otherwise.
    stochastic = args.stochastic or (not deterministic_eval_default(agent.env_id) and not args.deterministic)
    run_agent(agent, n_timesteps=args.n_timesteps, deterministic=not stochastic, render=render)
    agent.env.close()
    return 0


def _cmd_record_video(args: argparse.Namespace) -> int:
    from pgzoo.zoo.envs import env_folder_name
    from pgzoo.zoo.record_video import check_video_path, record_video

    # A bad -o is reported before the agent is loaded and run, not after.
    output = check_video_path(args.output) if args.output else None
    agent = _load_selected_agent(args, render_mode="rgb_array")
    output = output or agent.run_folder / "videos" / f"{args.algo}-{env_folder_name(args.env)}.mp4"
    try:
        path = record_video(agent, output, n_timesteps=args.n_timesteps, deterministic=not args.stochastic)
    finally:
        agent.env.close()
    print(f"Video saved to {path}")
    return 0


def _cmd_push(args: argparse.Namespace) -> int:
    from pgzoo.zoo.algos import normalize_algo_name
    from pgzoo.zoo.errors import HubError
    from pgzoo.zoo.hub import DRY_RUN_ORG, default_repo_name, push

    org = args.org
    if args.repo_id is None and org is None:
        if not args.dry_run:
            raise HubError("give --repo-id ORG/NAME or --org ORG (the repository is then ORG/<algo>-<env>)")
        org = DRY_RUN_ORG  # a dry run uploads nothing: the card's usage code gets a placeholder to edit
    repo_id = args.repo_id or f"{org}/{default_repo_name(normalize_algo_name(args.algo), args.env)}"
    result = push(
        args.algo,
        args.env,
        args.folder,
        repo_id,
        exp_id=args.exp_id,
        load_best=args.load_best,
        load_checkpoint=args.load_checkpoint,
        commit_message=args.message,
        n_eval_episodes=args.n_eval_episodes,
        deterministic=not args.stochastic,
        video_length=args.video_length,
        local_dir=args.local_dir,
        dry_run=args.dry_run,
        private=args.private,
        trust_remote_code=args.trust_remote_code,
        device=args.device,
    )
    print(f"Evaluation: mean reward {result.mean_reward:.2f} +/- {result.std_reward:.2f} over {args.n_eval_episodes} episodes")
    if result.url is None:
        print(f"Dry run: packaged {repo_id} into {result.folder} ({', '.join(result.files)}); nothing uploaded")
        if org == DRY_RUN_ORG and args.repo_id is None:
            print(f"The card names the placeholder {repo_id}: pass --org or --repo-id to name the real repository")
    else:
        print(f"Pushed {', '.join(result.files)} to {repo_id}: {result.url}")
    return 0


def _cmd_pull(args: argparse.Namespace) -> int:
    from pgzoo.zoo.errors import ModelZipChoiceError
    from pgzoo.zoo.hub import pull

    try:
        run = pull(args.repo_id, args.folder, algo=args.algo, env_id=args.env, revision=args.revision, filename=args.filename)
    except ModelZipChoiceError as error:
        raise ModelZipChoiceError(error.repo_id, error.zips, option="--filename") from None
    algo, env_part = run.parent.name, run.name.rsplit("_", 1)[0]
    print(f"Downloaded {args.repo_id} into {run}")
    print(f"Run it with: pgzoo enjoy --algo {algo} --env {args.env or env_part} -f {args.folder}")
    return 0


def _cmd_benchmark(args: argparse.Namespace) -> int:
    # When run: the benchmark imports huggingface_hub (for an agent's results.json), which reads HF_ENDPOINT on import.
    from pgzoo.zoo.benchmark.command import main as benchmark_main

    return benchmark_main(args)


def _cmd_publish(args: argparse.Namespace) -> int:
    from pgzoo.zoo.publish import FAILED, PACKAGED, UNCHANGED, UPLOADED, format_table, publish

    outcomes = publish(
        args.folder,
        args.org,
        only=args.only,
        dry_run_dir=args.dry_run,
        n_eval_episodes=args.n_eval_episodes,
        video_length=args.video_length,
        commit_message=args.message,
        private=args.private,
        device=args.device,
    )
    print(format_table(outcomes))
    failed = [o for o in outcomes if o.status == FAILED]
    counts = {status: sum(o.status == status for o in outcomes) for status in (UPLOADED, UNCHANGED, PACKAGED, FAILED)}
    print(", ".join(f"{n} {status.lower()}" for status, n in counts.items() if n))
    for o in failed:
        print(f"error: {o.repo_id}: {o.detail}", file=sys.stderr)
    # Some agents failed, the others were published: not a usage error (2), but not a success either.
    return 1 if failed else 0


def _cmd_tune(args: argparse.Namespace) -> int:
    from pgzoo.zoo.tune import tune

    _entry, score, path = tune(
        args.algo,
        args.env,
        n_trials=args.n_trials,
        n_timesteps=args.n_timesteps,
        n_evaluations=args.n_evaluations,
        eval_episodes=args.eval_episodes,
        sampler=args.sampler,
        pruner=args.pruner,
        n_startup_trials=args.n_startup_trials,
        seed=args.seed,
        n_seeds=args.n_seeds,
        storage=args.storage,
        study_name=args.study_name,
        timeout=args.timeout,
        log_folder=args.folder,
        hyperparams_file=args.hyperparams_file,
        output=args.output,
        verbose=args.verbose,
    )
    print(f"Best mean reward {score:.2f}; entry written to {path}:")
    sys.stdout.write(path.read_text())
    return 0


_COMMANDS: dict[str, Any] = {
    "train": _cmd_train,
    "enjoy": _cmd_enjoy,
    "record-video": _cmd_record_video,
    "push": _cmd_push,
    "pull": _cmd_pull,
    "benchmark": _cmd_benchmark,
    "tune": _cmd_tune,
    "publish": _cmd_publish,
}


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the ``pgzoo`` command line.

    :param argv: Arguments without the program name (default: ``sys.argv[1:]``).
    :return: Exit status: 0 on success, 2 on bad input (after printing ``error: ...``), 130 on Ctrl-C.
    """
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "gym_packages", None):
            from pgzoo.zoo.envs import import_gym_packages

            import_gym_packages(args.gym_packages)
        return int(_COMMANDS[args.command](args))
    except ZooError as error:
        message = str(error)
        if getattr(args, "verbose", 0) >= 2 and error.__cause__ is not None:
            # The failure behind the message (an env's own exception, say), for whoever debugs it.
            traceback.print_exception(error.__cause__, file=sys.stderr)
        if isinstance(error, UnknownEnvError) and hasattr(args, "gym_packages"):
            message += " Use --gym-packages to import a package that registers it"
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
