"""
A restricted evaluator for the Python-expression strings found in rl-zoo3 style hyperparameter files.

rl-zoo3 writes values such as ``policy_kwargs: "dict(net_arch=[64, 64], activation_fn=nn.Tanh)"`` and evaluates
them with ``eval``. A hyperparameter file may come from the Hub, so pgzoo never calls ``eval``: the string is parsed
with :mod:`ast` and only the following constructs are evaluated:

* literals: numbers, strings, ``True``/``False``/``None``, lists, tuples, dicts, sets;
* unary ``+``/``-`` and the arithmetic operators ``+ - * / // ** %`` between numbers;
* calls to ``dict(...)``, ``list(...)``, ``tuple(...)``, ``float(...)``, ``int(...)``, ``bool(...)`` whose arguments
  are themselves allowed;
* names (bare or qualified by ``nn.``, ``th.nn.``, ``torch.nn.``, ``th.optim.``, ``torch.optim.``, ``optim.``) of the
  torch activation, optimizer and SB3 feature-extractor classes listed in :data:`ALLOWED_CLASSES`.

Anything else (attribute access on other objects, lambdas, comprehensions, arbitrary calls, subscripts...) raises
:class:`~pgzoo.zoo.errors.UnsafeValueError` naming the construct and listing what is allowed.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from pgzoo.zoo.errors import UnsafeValueError

# Names users write for classes. Resolved lazily so that importing this module stays cheap.
_ACTIVATIONS = (
    "ReLU",
    "Tanh",
    "ELU",
    "SELU",
    "GELU",
    "SiLU",
    "Mish",
    "LeakyReLU",
    "Sigmoid",
    "Softplus",
    "Identity",
    "Hardtanh",
    "ReLU6",
    "CELU",
    "Softsign",
    "Tanhshrink",
)
_OPTIMIZERS = ("Adam", "AdamW", "RMSprop", "SGD", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam")
_EXTRACTORS = ("FlattenExtractor", "NatureCNN", "CombinedExtractor")

#: Class names the evaluator resolves, grouped by where they live.
ALLOWED_CLASSES: dict[str, tuple[str, ...]] = {
    "torch.nn": _ACTIVATIONS,
    "torch.optim": _OPTIMIZERS,
    "stable_baselines3.common.torch_layers": _EXTRACTORS,
    "stable_baselines3.common.sb2_compat.rmsprop_tf_like": ("RMSpropTFLike",),
    # A3C's optimizers keep their statistics in shared memory; its saved models name them.
    "pgzoo.a3c.shared_optim": ("SharedAdam", "SharedRMSprop", "SharedRMSpropTFLike"),
    # A3C's shared observation statistics (normalize_obs) live in this features extractor.
    "pgzoo.a3c.normalization": ("NormalizedFlattenExtractor",),
}

# Prefixes under which a class name may be written (``nn.Tanh``, ``th.optim.Adam``...).
_PREFIXES = ("", "nn.", "th.nn.", "torch.nn.", "optim.", "th.optim.", "torch.optim.")
_PREFIX_HOMES = {prefix: "torch.nn" if "nn." in prefix else "torch.optim" for prefix in _PREFIXES if prefix}

_SAFE_CALLS: dict[str, Callable[..., Any]] = {
    "dict": dict,
    "list": list,
    "tuple": tuple,
    "float": float,
    "int": int,
    "bool": bool,
}

#: Largest integer power evaluated, in bits of its result (2**4096 has 1234 digits: far beyond any hyperparameter).
_MAX_POWER_BITS = 4096

_BIN_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}

#: How the messages write a class of each home of :data:`ALLOWED_CLASSES` (the others by their bare name).
_WRITTEN_PREFIX = {"torch.nn": "nn.", "torch.optim": "th.optim."}

#: What the evaluator accepts, in one line for its error messages; the classes are read from ALLOWED_CLASSES.
ALLOWED_SUMMARY = (
    "allowed: literals (numbers, strings, True/False/None, lists, tuples, dicts), + - * / ** on numbers, "
    f"{'/'.join(f'{name}(...)' for name in _SAFE_CALLS)}, and the classes "
    + ", ".join(f"{_WRITTEN_PREFIX.get(home, '')}{name}" for home, names in ALLOWED_CLASSES.items() for name in names)
)


def resolve_class_name(name: str) -> type | None:
    """
    Return the allowed class written as ``name`` (e.g. ``"nn.Tanh"``, ``"th.optim.Adam"``), or ``None``.

    Also accepts the ``str()`` of a class as SB3 stores it in model zips, e.g.
    ``"<class 'torch.nn.modules.activation.Tanh'>"``, matching on the class's own name.

    :param name: The name as written in a hyperparameter string or a saved model.
    :return: The class, or ``None`` when the name is not in :data:`ALLOWED_CLASSES`.
    """
    import importlib

    name = name.strip()
    if name.startswith("<class '") and name.endswith("'>"):
        dotted = name[len("<class '") : -2]
        module_name, _, short = dotted.rpartition(".")
        for home, names in ALLOWED_CLASSES.items():
            # The stored module is the defining one (torch.nn.modules.activation), below the public home.
            if short in names and (module_name == home or module_name.startswith(home + ".")):
                return getattr(importlib.import_module(home), short)  # type: ignore[no-any-return]
        return None
    for prefix in _PREFIXES:
        if not name.startswith(prefix):
            continue
        short = name[len(prefix) :]
        # A qualified name must point at the right module: ``nn.Adam`` or ``optim.Tanh`` are mistakes.
        homes = [home for home in ALLOWED_CLASSES if not prefix or home == _PREFIX_HOMES[prefix]]
        for home in homes:
            if short in ALLOWED_CLASSES[home]:
                return getattr(importlib.import_module(home), short)  # type: ignore[no-any-return]
    return None


def _dotted_name(node: ast.expr) -> str | None:
    """Turn ``a.b.c`` (Name/Attribute chain) into ``"a.b.c"``; ``None`` for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def safe_eval(source: str, *, what: str = "value") -> Any:
    """
    Evaluate ``source`` with the restricted grammar described in this module's docstring.

    :param source: The expression, e.g. ``"dict(net_arch=[64, 64], activation_fn=nn.ReLU)"``.
    :param what: What the string is (e.g. ``"policy_kwargs of CartPole-v1 in hyperparams/a2c.yml"``), for errors.
    :return: The evaluated value.
    :raises UnsafeValueError: When the string is not valid Python or uses a construct that is not allowed.
    """
    try:
        tree = ast.parse(source.strip(), mode="eval")
        return _eval_node(tree.body, source, what)
    except SyntaxError as error:
        raise UnsafeValueError(f"cannot parse {what} {_shorten(source)}: {error.msg}") from None
    except (RecursionError, MemoryError):
        # `1+1+...+1` a hundred thousand times, or brackets nested as deep: the parser or the evaluator recurses.
        raise UnsafeValueError(f"{what} {_shorten(source)}: nested too deeply; {ALLOWED_SUMMARY}") from None


def _shorten(source: str, limit: int = 80) -> str:
    """``repr`` of ``source``, cut to ``limit`` characters: an error line must stay one readable line."""
    text = repr(source)
    return text if len(text) <= limit else text[: limit - 5] + "...'"


def _refuse(node: ast.AST, source: str, what: str, reason: str) -> UnsafeValueError:
    snippet = ast.get_source_segment(source.strip(), node) or type(node).__name__
    return UnsafeValueError(f"{what} {_shorten(source)}: {reason} ({_shorten(snippet)}); {ALLOWED_SUMMARY}")


def _eval_node(node: ast.expr, source: str, what: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List):
        return [_eval_node(item, source, what) for item in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_eval_node(item, source, what) for item in node.elts)
    if isinstance(node, ast.Set):
        try:
            return {_eval_node(item, source, what) for item in node.elts}
        except TypeError as error:  # an unhashable item: {[1]}
            raise _refuse(node, source, what, str(error)) from None
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise _refuse(node, source, what, "`**` unpacking is not allowed")
        try:
            return {
                _eval_node(key, source, what): _eval_node(value, source, what)  # type: ignore[arg-type]
                for key, value in zip(node.keys, node.values, strict=True)
            }
        except TypeError as error:  # an unhashable key: {[1]: 2}
            raise _refuse(node, source, what, str(error)) from None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _eval_node(node.operand, source, what)
        if not isinstance(operand, int | float) or isinstance(operand, bool):
            raise _refuse(node, source, what, "unary +/- only applies to numbers")
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN_OPS:
        left, right = _eval_node(node.left, source, what), _eval_node(node.right, source, what)
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (left, right))
        if not numbers:
            raise _refuse(node, source, what, "arithmetic is only allowed between numbers")
        if isinstance(node.op, ast.Pow) and (
            abs(right) > 64 or (isinstance(left, int) and abs(left).bit_length() * abs(right) > _MAX_POWER_BITS)
        ):
            # Keeps `10 ** 10 ** 10`, or nested powers such as `((9 ** 64) ** 64) ** 64`, from hanging the process.
            raise _refuse(node, source, what, "exponent too large")
        try:
            return _BIN_OPS[type(node.op)](left, right)
        except (ArithmeticError, ValueError) as error:  # division by zero, a float overflow
            raise _refuse(node, source, what, str(error)) from None
    if isinstance(node, ast.Name | ast.Attribute):
        dotted = _dotted_name(node)
        if dotted in ("inf", "float_inf"):
            return float("inf")
        cls = resolve_class_name(dotted) if dotted is not None else None
        if cls is None:
            raise _refuse(node, source, what, f"the name {dotted!r} is not allowed")
        return cls
    if isinstance(node, ast.Call):
        func = _dotted_name(node.func)
        if func not in _SAFE_CALLS:
            raise _refuse(node, source, what, f"calling {func or 'this'!r} is not allowed")
        args = [_eval_node(arg, source, what) for arg in node.args if not isinstance(arg, ast.Starred)]
        if len(args) != len(node.args):
            raise _refuse(node, source, what, "`*` unpacking is not allowed")
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise _refuse(node, source, what, "`**` unpacking is not allowed")
            kwargs[keyword.arg] = _eval_node(keyword.value, source, what)
        try:
            return _SAFE_CALLS[func](*args, **kwargs)
        except (TypeError, ValueError, ArithmeticError) as error:  # int('x'), int(float('inf')), dict(1)
            raise _refuse(node, source, what, f"{func}() refused its arguments: {error}") from None
    raise _refuse(node, source, what, f"{type(node).__name__} expressions are not allowed")
