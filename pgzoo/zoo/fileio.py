"""Writing files so that a crash or Ctrl-C never leaves half of one, and checking a folder can be written first."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch as th

from pgzoo.zoo.errors import DivergedError, ZooError


def current_umask() -> int:
    """The process's file-mode creation mask (reading it means setting it: it is set straight back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _default_file_mode() -> int:
    """Permissions a plain ``open()`` would give a new file (``mkstemp`` makes 0600 files)."""
    return 0o666 & ~current_umask()


def check_writable_folder(folder: str | Path, what: str) -> None:
    """
    Create ``folder`` if needed and make sure a file can be written in it, before any work whose result goes there.

    :param folder: The folder.
    :param what: How the user named it, for the error message (e.g. ``"--results-dir results"``).
    :raises ZooError: When it cannot be created or written in (read-only, a file in the way, no permission).
    """
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ZooError(f"cannot write in {what}: {error.strerror or error} ({error.filename or folder})") from None


def atomic_write(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """
    Let ``write`` fill a temporary file in ``path``'s folder, then move it over ``path`` with ``os.replace``.

    A crash or Ctrl-C leaves either the previous file or the complete new one, never half a file.

    :param path: Target file.
    :param write: Writes the content into the binary file object it is given.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            # On disk before the rename makes it the file: after a power cut, never a complete-looking empty file.
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, _default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """
    Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`).

    :param path: Target file.
    :param text: Its content.
    """
    atomic_write(path, lambda file: file.write(text.encode("utf-8")))


def atomic_save_model(model: Any, path: str | Path) -> Path:
    """
    Save an SB3 model to ``path`` (a ``.zip``) atomically (see :func:`atomic_write`).

    An interrupted save leaves the previous file intact instead of a truncated zip.

    :param model: The algorithm instance.
    :param path: Target file; ``.zip`` is appended when missing.
    :return: The path written.
    """
    path = Path(path)
    if path.suffix != ".zip":
        path = path.with_name(path.name + ".zip")
    check_finite_weights(model, path)
    atomic_write(path, model.save)
    return path


def check_finite_weights(model: Any, path: str | Path) -> None:
    """
    Refuse to save a model whose policy holds NaN or inf (weights, or buffers such as normalization statistics): it
    would be picked as the final model, the best one or a checkpoint to resume from, and only fail when used.

    :param model: The algorithm instance.
    :param path: Where it was to be saved, for the message.
    :raises DivergedError: When a floating-point tensor of the policy is not finite.
    """
    name = non_finite_tensor(model)
    if name is not None:
        raise DivergedError(
            f"training diverged: the weights hold NaN or inf ({name}) after {model.num_timesteps} steps; "
            f"{Path(path).name} was not saved"
        )


def non_finite_tensor(model: Any) -> str | None:
    """
    The name of the first floating-point tensor of ``model``'s policy (weights, or buffers such as normalization
    statistics) that holds NaN or inf, or ``None`` when all are finite.

    :param model: The algorithm instance.
    """
    for name, tensor in model.policy.state_dict().items():
        if th.is_floating_point(tensor) and not th.isfinite(tensor).all():
            return name
    return None
