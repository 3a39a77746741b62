"""Recording an mp4 of a trained agent, headless (``rgb_array`` rendering; ``pgzoo record-video``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pgzoo.zoo.errors import ZooError
from pgzoo.zoo.fileio import atomic_write


def check_video_path(path: str | Path) -> Path:
    """
    Validate the target of a video before anything is recorded; it changes nothing on disk, so the CLI can check
    ``-o`` before it loads the agent.

    :param path: Target file; its name must end in ``.mp4`` (the only format written).
    :return: The path.
    :raises ZooError: When it is a folder or does not end in ``.mp4``.
    """
    path = Path(path)
    if path.is_dir():
        raise ZooError(f"{path} is a folder: give a file name such as {path / 'replay.mp4'}")
    if path.suffix.lower() != ".mp4":
        raise ZooError(f"{path}: videos are written as MP4, give a file name ending in .mp4")
    return path


#: Most bytes of frames a recording holds in memory before the mp4 is encoded (1000 CartPole frames take 0.7 GiB).
MAX_VIDEO_BYTES = 4 * 2**30


def record_video(
    agent: Any, path: str | Path, *, n_timesteps: int = 500, deterministic: bool = True, fps: int | None = None
) -> Path:
    """
    Run ``agent`` (its env created with ``render_mode="rgb_array"``) and write the frames to an mp4.

    :param agent: An :class:`pgzoo.zoo.enjoy.Agent` loaded with ``render_mode="rgb_array"``.
    :param path: Target ``.mp4`` file (written atomically; its folder is created when missing).
    :param n_timesteps: Number of steps to record.
    :param deterministic: Deterministic actions.
    :param fps: Frames per second; defaults to the env's ``render_fps`` metadata (or 30).
    :return: The file written.
    :raises ZooError: When the path is not usable (see :func:`check_video_path`), the env cannot render frames,
        the frames would take more than :data:`MAX_VIDEO_BYTES`, no mp4 writer is installed or the file cannot be
        written.
    """
    path = check_video_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ZooError(f"cannot create the folder {path.parent} for {path.name}: {error.strerror or error}") from None
    try:
        import imageio.v2 as imageio
    except ImportError:
        raise ZooError(
            "recording needs imageio and imageio-ffmpeg: pip install 'pgzoo[test]' (or imageio imageio-ffmpeg)"
        ) from None
    env, model = agent.env, agent.model
    frames = []
    obs = env.reset()
    state, episode_start = None, np.ones((env.num_envs,), dtype=bool)

    def grab() -> None:
        frame = env.render()
        if frame is None:
            raise ZooError("the env returned no frame: it must be created with render_mode='rgb_array'")
        frames.append(np.asarray(frame))

    grab()
    needed = frames[0].nbytes * (n_timesteps + 1)
    if needed > MAX_VIDEO_BYTES:
        # Checked before running: the frames are held until the end, and a huge -n would fill the memory.
        most = MAX_VIDEO_BYTES // frames[0].nbytes - 1
        raise ZooError(
            f"{n_timesteps} steps of {frames[0].shape} frames would take {needed / 2**30:.1f} GiB of memory "
            f"(at most {MAX_VIDEO_BYTES // 2**30} GiB): record at most {most} steps"
        )
    for _ in range(n_timesteps):
        action, state = model.predict(obs, state=state, episode_start=episode_start, deterministic=deterministic)
        obs, _, episode_start, _ = env.step(action)
        grab()
    if fps is None:
        metadata = env.get_attr("metadata")[0] or {}
        fps = int(metadata.get("render_fps", 30) or 30)
    try:
        # format="mp4": the file object atomic_write hands over has no name for imageio to guess the format from.
        atomic_write(path, lambda file: imageio.mimsave(file, frames, format="mp4", fps=fps, macro_block_size=1))  # type: ignore[arg-type]
    except (ValueError, RuntimeError, OSError) as error:
        raise ZooError(f"cannot write {path}: {error}") from None
    return path
