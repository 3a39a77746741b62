"""Recording an mp4 of a trained agent, headless (``rgb_array`` rendering; ``pgzoo record-video``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pgzoo.zoo.errors import ZooError


def record_video(
    agent: Any, path: str | Path, *, n_timesteps: int = 500, deterministic: bool = True, fps: int | None = None
) -> Path:
    """
    Run ``agent`` (its env created with ``render_mode="rgb_array"``) and write the frames to an mp4.

    :param agent: An :class:`pgzoo.zoo.enjoy.Agent` loaded with ``render_mode="rgb_array"``.
    :param path: Target ``.mp4`` file.
    :param n_timesteps: Number of steps to record.
    :param deterministic: Deterministic actions.
    :param fps: Frames per second; defaults to the env's ``render_fps`` metadata (or 30).
    :return: The file written.
    :raises ZooError: When the env cannot render frames or no mp4 writer is installed.
    """
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
    for _ in range(n_timesteps):
        action, state = model.predict(obs, state=state, episode_start=episode_start, deterministic=deterministic)
        obs, _, episode_start, _ = env.step(action)
        grab()
    if fps is None:
        metadata = env.get_attr("metadata")[0] or {}
        fps = int(metadata.get("render_fps", 30) or 30)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.mp4")
    try:
        imageio.mimsave(str(tmp), frames, fps=fps, macro_block_size=1)  # type: ignore[arg-type]
    except (ValueError, RuntimeError, OSError) as error:
        tmp.unlink(missing_ok=True)
        raise ZooError(f"cannot write {path}: {error}") from None
    tmp.replace(path)
    return path
