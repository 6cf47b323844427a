"""Configs: frozen dataclasses, loaded from YAML, with `--set a.b=value` overrides.

Every stage owns a dataclass for its settings; this module only knows how to build any
nested dataclass from a mapping, apply dotted overrides, and write the resolved result
beside an output so a run can be repeated exactly.

A field's allowed values live in its type: `Literal["adamw", "adafactor"]` for a choice,
`Annotated[float, Range(0, 1)]` (or the aliases `Count`, `NonNegativeInt`, `Positive`,
`NonNegative`, `Share`) for a number. A dataclass whose `__post_init__` calls
`check_fields(self)` refuses other values when it is built, however it is built (YAML,
`--set`, a command-line flag, Python), with a `FieldError` naming the field; `load_config`
then names the file or the `--set` that gave the value.

A nested dataclass's missing keys keep the values of the field's default (which need not
be the class's defaults: a training config's model defaults to the tiny preset). A
dataclass may also translate between its settings and its fields: `expand_settings(data)`
(a classmethod) turns a mapping as written (a `preset: NAME` for a group of values,
keys of older files) into field values before they are built, and `to_settings(self)`
gives the mapping `to_dict` and `save_config` write.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml

from bandmate.errors import ConfigError

T = TypeVar("T")


class FieldError(ConfigError, ValueError):
    """A config field holds a value it does not allow; `key` is its dotted path.

    Also a ValueError: code that builds a config directly sees the error it always has."""

    def __init__(self, key: str, problem: str) -> None:
        self.key, self.problem = key, problem
        super().__init__(f"{key}: {problem}")


@dataclass(frozen=True)
class Range:
    """The numbers a field allows, for `Annotated[int, Range(1)]`; NaN and infinity never.

    Args:
        low: the smallest allowed value (None: no bound).
        high: the largest (None: no bound).
        low_open: `low` itself is refused (a rate above 0).
        high_open: `high` itself is refused (a dropout below 1).
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def problem(self, value: float) -> str | None:
        """Why `value` is refused, or None when it is allowed."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, got {value!r}"
        low, high = self.low, self.high
        above = low is None or value > low or (value == low and not self.low_open)
        below = high is None or value < high or (value == high and not self.high_open)
        if math.isfinite(value) and above and below:
            return None
        allowed = self.describe()
        if not math.isfinite(value):
            allowed = allowed.replace("a number", "a finite number", 1)
        return f"must be {allowed}, got {value!r}"

    def describe(self) -> str:
        """The allowed values in words: "a number at least 0 and below 1"."""
        bounds = []
        if self.low is not None:
            bounds.append(f"{'above' if self.low_open else 'at least'} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'below' if self.high_open else 'at most'} {self.high:g}")
        return "a number " + " and ".join(bounds) if bounds else "a finite number"


# The ranges most fields need.
Count = Annotated[int, Range(1)]  # sizes, steps, intervals: at least one
NonNegativeInt = Annotated[int, Range(0)]  # 0 often means "off" or "natural"
Positive = Annotated[float, Range(0, low_open=True)]
NonNegative = Annotated[float, Range(0)]
Share = Annotated[float, Range(0, 1)]  # a fraction of something


def check_fields(config: Any) -> None:
    """Refuse a dataclass whose fields break their `Literal` or `Range` types.

    Call it from `__post_init__`; nested dataclasses check themselves.

    Raises:
        FieldError: naming the first field whose value is not allowed.
    """
    cls: type = type(config)
    hints = _hints(cls)
    for field in dataclasses.fields(config):
        problem = _problem(hints[field.name], getattr(config, field.name))
        if problem is not None:
            raise FieldError(field.name, problem)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _problem(hint: Any, value: Any) -> str | None:
    """Why `value` breaks the `Literal`/`Range` parts of type `hint`, or None."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        base, *extras = typing.get_args(hint)
        found = [_problem(base, value)]
        found += [extra.problem(value) for extra in extras if isinstance(extra, Range)]
        return next((p for p in found if p is not None), None)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or len(options) != 1:
            return None
        return _problem(options[0], value)
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        if value in choices:
            return None
        return f"must be one of {', '.join(str(c) for c in choices)}, got {value!r}"
    if origin is tuple and isinstance(value, tuple):
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return next((p for v in value if (p := _problem(args[0], v)) is not None), None)
    return None


def from_dict(cls: type[T], data: Mapping[str, Any], where: str = "config") -> T:
    """Build dataclass `cls` from a (possibly nested) mapping, rejecting unknown keys.

    Args:
        cls: a dataclass type; fields that are dataclasses are built recursively.
        data: the values; missing fields keep their defaults.
        where: a label for error messages (the file the mapping came from).
    Returns:
        an instance of `cls`.
    Raises:
        ConfigError: "WHERE: KEY: problem" for the first key that is unknown or whose
            value its field does not allow.
    """
    try:
        return _build(cls, data, "")
    except FieldError as error:
        raise ConfigError(
            f"{where}: {error}" if error.key else f"{where}: {error.problem}"
        ) from None


def _build(cls: type[T], data: Any, prefix: str, default: Any = None) -> T:
    """`from_dict` for the mapping at key path `prefix`; errors are `FieldError`s whose
    key is the full dotted path, so the caller can say where the bad value came from.
    Keys the mapping leaves out take their values from `default` (an instance of `cls`),
    when given, else the class's defaults."""
    if not isinstance(data, Mapping):
        raise FieldError(prefix, f"expected a mapping of settings, got {_kind(data)}")
    expand = getattr(cls, "expand_settings", None)
    if expand is not None:
        try:
            data = expand(data)
        except FieldError as error:
            raise FieldError(_join(prefix, error.key), error.problem) from None
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for name in data:
        if name not in fields:
            raise FieldError(_join(prefix, name), f"unknown key (known: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        kwargs[name] = _coerce(hint, value, _join(prefix, name), _default_of(fields[name], hint))
    if default is not None:
        kwargs = {name: getattr(default, name) for name in fields if fields[name].init} | kwargs
    try:
        return cls(**kwargs)
    except FieldError as error:  # raised by the class's own checks, keyed by its field
        raise FieldError(_join(prefix, error.key), error.problem) from None
    except (TypeError, ValueError) as error:
        raise FieldError(prefix, str(error)) from None


def _join(prefix: str, name: Any) -> str:
    return f"{prefix}.{name}" if prefix else str(name)


def _kind(value: Any) -> str:
    """A YAML value's kind in the words of a config file."""
    kinds = {list: "a list", dict: "a mapping", str: "a string", bool: "true/false"}
    kinds |= {int: "a number", float: "a number", type(None): "nothing"}
    return f"{kinds.get(type(value), type(value).__name__)} ({value!r:.40})"


def _default_of(field: dataclasses.Field[Any], hint: Any) -> Any:
    """The default value of a field whose type `hint` is a dataclass (else None)."""
    if not (dataclasses.is_dataclass(hint) and isinstance(hint, type)):
        return None
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _coerce(hint: Any, value: Any, key: str, default: Any = None) -> Any:
    """Convert a YAML value to the field's declared type where that is unambiguous;
    a nested dataclass is built over `default`, the field's default instance."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value, key, default if isinstance(default, hint) else None)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(options[0], value, key) if len(options) == 1 else value
    if origin is tuple and isinstance(value, list | tuple):
        args = typing.get_args(hint)
        item = args[0] if args else Any
        return tuple(_coerce(item, v, key) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):
        # YAML 1.1 reads `3e-4` (no dot) as a string; a float field takes it as a number.
        try:
            return float(value)
        except ValueError:
            pass
    # YAML's true/false are ints to Python; a number field takes neither.
    wrong_bool = hint in (int, float) and isinstance(value, bool)
    if wrong_bool or (hint in (int, float, str, bool) and not isinstance(value, hint)):
        raise FieldError(key, f"expected {_NAMES[hint]}, got {_kind(value)}")
    return value


_NAMES = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}


def to_dict(config: Any) -> dict[str, Any]:
    """The config as plain YAML-safe data (tuples become lists); a dataclass with
    `to_settings` is written as that mapping."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            settings = getattr(value, "to_settings", None)
            if settings is not None:
                return plain(settings())
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return typing.cast(dict[str, Any], plain(config))


def parse_overrides(pairs: Iterable[str]) -> dict[str, Any]:
    """Turn `["a.b=3", "c=x"]` into a nested mapping; values are parsed as YAML scalars."""
    nested: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        parts = key.split(".")
        if not sep or not all(parts):
            raise ConfigError(f"--set {pair!r}: expected key=value, e.g. train.steps=100")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {pair}: an earlier --set gives {part} a single value")
        try:
            node[parts[-1]] = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError as error:
            raise ConfigError(f"--set {pair}: malformed value ({_first_line(error)})") from None
    return nested


def add_overrides_argument(parser: argparse.ArgumentParser, example: str) -> None:
    """`--set KEY=VALUE` (repeatable) into `args.overrides`, for `load_config`."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a config field (repeatable), e.g. --set {example}",
    )


def merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `update` into a copy of `base`."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(cls: type[T], path: str | Path | None = None, overrides: Iterable[str] = ()) -> T:
    """Load `cls` from a YAML file (or its defaults when `path` is None) plus overrides.

    Raises:
        ConfigError: one line naming the `--set` or the file (and key) of the first bad
            value: unknown keys, wrong types, values outside a field's range or choices.
    """
    overrides = list(overrides)
    data = _read_yaml(path) if path is not None else {}
    try:
        return _build(cls, merge(data, parse_overrides(overrides)), "")
    except FieldError as error:
        raise ConfigError(_blame(error, path, overrides)) from None


def _read_yaml(path: str | Path) -> dict[str, Any]:
    """A config file's top-level mapping ({} for an empty file)."""
    try:
        loaded = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: unreadable config file ({_first_line(error)})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: malformed YAML ({_first_line(error)})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping):
        raise ConfigError(
            f"{path}: expected `key: value` settings at the top level, got {_kind(loaded)}"
        )
    return dict(loaded)


def _blame(error: FieldError, path: str | Path | None, overrides: list[str]) -> str:
    """The one-line message of a bad value: the `--set` that gave it (the last one wins,
    as in `merge`), else the config file."""
    for pair in reversed(overrides):
        key = pair.partition("=")[0]
        if error.key == key:
            return f"--set {pair}: {error.problem}"
        if error.key.startswith(f"{key}.") or key.startswith(f"{error.key}."):
            return f"--set {pair}: {error.key}: {error.problem}"
    where = str(path) if path is not None else "config"
    return f"{where}: {error}" if error.key else f"{where}: {error.problem}"


def save_config(config: Any, path: str | Path) -> None:
    """Write the resolved config as YAML (atomically), so the run can be repeated."""
    from bandmate.io import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(to_dict(config), sort_keys=False))


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
