"""Exceptions raised by the zoo for bad user input; the CLI prints them as one ``error: ...`` line."""

from __future__ import annotations

from pgzoo.common.errors import DivergenceError


def check_seed_range(option: str, first: int, count: int = 1) -> None:
    """
    Raise a :class:`ZooError` unless the seeds ``first`` to ``first + count - 1`` are all valid NumPy seeds.

    :param option: How the user gave the first seed (``--seed``, ``--first-seed``).
    :param first: The first seed.
    :param count: How many consecutive seeds are used from it.
    :raises ZooError: When one of them is out of range.
    """
    from pgzoo.common.utils import MAX_SEED

    if not 0 <= first <= MAX_SEED - count:
        raise ZooError(f"{option} must be between 0 and {MAX_SEED - count}, got {first}")


def one_line(error: BaseException) -> str:
    """
    The first line of ``error``'s message (libraries such as SQLAlchemy and huggingface_hub add details on the next
    ones), or its type's name when it has none (a bare ``assert``).

    :param error: The exception to describe.
    """
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


class ZooError(Exception):
    """Base class of every error the zoo reports to the user as a one-line message (CLI exit code 2)."""


class UnknownAlgoError(ZooError):
    """The requested algorithm is not in the registry."""


class UnknownEnvError(ZooError):
    """The requested environment id is not registered in Gymnasium."""


class HyperparamsError(ZooError):
    """A hyperparameter file is missing, malformed, lacks the env, or holds a value the zoo cannot use."""


class MissingEntryError(HyperparamsError):
    """A hyperparameter file has no entry for the requested env."""


class UnsafeValueError(HyperparamsError):
    """A hyperparameter string uses Python that the restricted evaluator does not allow."""


class UntrustedClassError(UnsafeValueError):
    """A file that is not trusted (from the Hub) names a class outside the allow-list; ``--trust-remote-code`` allows it."""


class DivergedError(ZooError, DivergenceError):
    """
    Training diverged: a loss or the weights hold NaN or inf (such a model is never saved, nor a checkpoint of it).
    Also a :class:`pgzoo.common.errors.DivergenceError`, the type the algorithms raise.
    """


class EnvFailedError(ZooError):
    """The env raised an exception in ``step()`` or ``reset()``; the original exception is its ``__cause__``."""


class ExperimentNotFoundError(ZooError):
    """No trained model was found in the log folder for the requested algo / env / experiment id."""


class HubError(ZooError):
    """A Hub operation failed: repository or file missing, no token, bad repo id."""


class UnsafeModelError(ZooError):
    """Loading the model would unpickle data from an untrusted source and the user did not opt in."""


class ModelZipChoiceError(HubError):
    """
    A repository's model zip cannot be told from its other zips: the user must name it.

    :param repo_id: The repository.
    :param zips: Its zip files (none when it has no model at all).
    :param option: How the user names the file: ``filename=`` in Python, ``--filename`` on the command line.
    """

    def __init__(self, repo_id: str, zips: list[str], option: str = "filename=") -> None:
        self.repo_id, self.zips, self.option = repo_id, zips, option
        argument = f"{option} NAME" if option.startswith("--") else f"{option}'NAME.zip'"
        if zips:
            message = f"{repo_id} has several zip files ({', '.join(zips)}): pass {argument} to say which is the model"
        else:
            message = f"{repo_id} has no model zips"
        super().__init__(message)
