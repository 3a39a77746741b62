"""
The argument types of the command line's options (``type=`` of argparse): one definition of what a count or a seed
accepts, for every parser in :mod:`pgzoo.zoo.cli` (the benchmark's included).
"""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """
    Argparse type of the options that count something (steps, seeds, episodes, processes).

    :param text: The option's value as typed.
    :return: The positive integer.
    :raises argparse.ArgumentTypeError: When it is not a positive integer.
    """
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """
    Argparse type of seeds (NumPy and Gymnasium refuse negative ones).

    :param text: The option's value as typed.
    :return: The integer, 0 or more.
    :raises argparse.ArgumentTypeError: When it is negative.
    """
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value
