"""Init schemes as data: a *kind* (how a weight is drawn) and its parameters. Pure Python.

Every init of the study, built-in or defined in a config's ``custom_inits``, is an
:class:`InitSpec`: one of the parametric kinds of :data:`KINDS` with its parameters. The torch
side (``initlab.engine.inits``) draws weights from a spec; this module only describes, checks
and sizes specs, so the workflow can validate a config's ``custom_inits`` while it builds the DAG
without importing torch, and the theory can read each scheme's variance without drawing.

Kinds a config may use (``custom_inits: {name: {kind: ..., ...}}``):

- ``normal`` (``std``): N(0, std^2);  ``uniform`` (``bound``): U(-bound, bound).
- ``fan_in`` / ``fan_out`` / ``fan_avg`` (``scale`` c, optional ``distribution`` normal|uniform):
  weight variance c / fan (fan_avg = (fan_in + fan_out) / 2), drawn from a normal or from the
  uniform of the same variance. ``he`` is fan_in with c = 2, ``lecun`` fan_in with c = 1,
  ``xavier`` fan_avg with c = 1.
- ``orthogonal`` (optional ``gain``): a (semi-)orthogonal matrix times ``gain``; without a gain,
  the activation's recommended one (``nn.init.calculate_gain``).
- ``scaled`` (``base``, ``factor``): the built-in scheme ``base`` drawn as usual, every weight then
  multiplied by ``factor`` (so its variance is factor^2 times the base's).

``default`` (PyTorch's own draw, biases included), ``zeros`` and ``lsuv`` (data-dependent) are
kinds only the built-ins use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class HasGain(Protocol):
    """An activation as the variance formulas see it (``initlab.engine.activations.Activation``)."""

    def gain(self) -> float: ...


DISTRIBUTIONS = ("normal", "uniform")


@dataclass(frozen=True)
class InitSpec:
    """One init scheme as data: its kind and that kind's parameters (a sorted tuple of pairs)."""

    kind: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def p(self) -> dict[str, Any]:
        return dict(self.params)

    def as_dict(self) -> dict[str, Any]:
        """The config form: ``{"kind": ..., **params}``."""
        return {"kind": self.kind, **self.p}


def spec(kind: str, **params: Any) -> InitSpec:
    """An :class:`InitSpec` from keyword parameters (in a canonical order)."""
    return InitSpec(kind, tuple(sorted(params.items())))


def fan(fan_in: int, fan_out: int, mode: str) -> float:
    """The fan a variance is divided by: fan_in, fan_out or their mean (fan_avg)."""
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


@dataclass(frozen=True)
class Kind:
    """A parametric kind: its required and optional parameters and its weight variance."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # Var of one weight entry (fan_in, fan_out, activation, params); None = data-dependent.
    variance: Callable[[int, int, HasGain, Mapping[str, Any]], float | None]
    configurable: bool = True  # False: only built-ins use it
    describe: Callable[[Mapping[str, Any]], str] = field(default=lambda p: "")


def _orth_var(fi: int, fo: int, act: HasGain, p: Mapping[str, Any]) -> float:
    # An orthogonal (fo x fi) matrix has ||W||_F^2 = min(fi, fo): entry variance min/(fi*fo) = 1/max.
    gain = p.get("gain", act.gain())
    return gain**2 / max(fi, fo)


def _scaled_var(fi: int, fo: int, act: HasGain, p: Mapping[str, Any]) -> float | None:
    base = BUILTIN_SPECS[p["base"]]
    v = KINDS[base.kind].variance(fi, fo, act, base.p)
    return None if v is None else p["factor"] ** 2 * v


def _fan_describe(mode: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda p: f"{p.get('distribution', 'normal')} with variance {p['scale']:g}/{mode}"


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("normal", ("std",), (), lambda fi, fo, a, p: p["std"] ** 2, describe=lambda p: f"N(0, {p['std']:g}^2)"),
        Kind(
            "uniform",
            ("bound",),
            (),
            lambda fi, fo, a, p: p["bound"] ** 2 / 3,
            describe=lambda p: f"U(-{p['bound']:g}, {p['bound']:g})",
        ),
        *(
            Kind(
                mode,
                ("scale",),
                ("distribution",),
                (lambda m: lambda fi, fo, a, p: p["scale"] / fan(fi, fo, m))(mode),
                describe=_fan_describe(mode),
            )
            for mode in ("fan_in", "fan_out", "fan_avg")
        ),
        Kind(
            "orthogonal",
            (),
            ("gain",),
            _orth_var,
            describe=lambda p: (
                f"orthogonal, gain {p['gain']:g}" if "gain" in p else "orthogonal, the activation's gain"
            ),
        ),
        Kind(
            "scaled",
            ("base", "factor"),
            (),
            _scaled_var,
            describe=lambda p: f"{p['base']} with every weight times {p['factor']:g}",
        ),
        Kind("default", (), (), lambda fi, fo, a, p: 1 / (3 * fi), configurable=False),
        Kind("zeros", (), (), lambda fi, fo, a, p: 0.0, configurable=False),
        Kind("lsuv", (), (), lambda fi, fo, a, p: None, configurable=False),
    )
}

#: The built-in schemes, each an instance of a kind (``initlab.engine.inits`` adds descriptions).
BUILTIN_SPECS: dict[str, InitSpec] = {
    "default": spec("default"),
    "zeros": spec("zeros"),
    "tiny": spec("normal", std=0.01),
    "large": spec("normal", std=1.0),
    "xavier": spec("fan_avg", scale=1.0, distribution="normal"),
    # The lesson's call: He/Kaiming for ReLU whatever the activation, which is the point of Exercise 2.
    "he": spec("fan_in", scale=2.0, distribution="normal"),
    "xavier_uniform": spec("fan_avg", scale=1.0, distribution="uniform"),
    "he_uniform": spec("fan_in", scale=2.0, distribution="uniform"),
    "lecun": spec("fan_in", scale=1.0, distribution="normal"),
    "orthogonal": spec("orthogonal"),
    "lsuv": spec("lsuv"),
}

#: Built-ins a ``scaled`` custom init may scale: every one drawn by a parametric kind.
SCALABLE_BASES = tuple(n for n, s in BUILTIN_SPECS.items() if KINDS[s.kind].configurable)


def weight_variance(s: InitSpec, fan_in: int, fan_out: int, activation: HasGain) -> float | None:
    """Var of one weight entry as ``s`` draws it; None when data-dependent (lsuv)."""
    return KINDS[s.kind].variance(fan_in, fan_out, activation, s.p)


def bias_variance(s: InitSpec, fan_in: int, fan_out: int) -> float:
    """Var of one bias entry: PyTorch's U(+-1/sqrt(fan_in)) for ``default``, else 0 (zeroed)."""
    return 1 / (3 * fan_in) if s.kind == "default" else 0.0


def describe(s: InitSpec) -> str:
    """A short human description of a spec, for the report's provenance."""
    return KINDS[s.kind].describe(s.p)


def _positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def parse_custom_init(name: str, definition: Any) -> InitSpec:
    """Check one ``custom_inits`` entry; raise ``ValueError`` with one line naming key, value, what is allowed."""
    key = f"custom_inits.{name}"
    if name in BUILTIN_SPECS:
        raise ValueError(f"{key}: the name {name!r} is a built-in init; choose another name")
    if not isinstance(definition, Mapping) or "kind" not in definition:
        raise ValueError(f"{key} = {definition!r} is not allowed; expected a mapping with a 'kind'")
    kinds = [k for k, v in KINDS.items() if v.configurable]
    kind_name = definition["kind"]
    if kind_name not in kinds:
        raise ValueError(f"{key}.kind = {kind_name!r} is not allowed; expected one of {', '.join(kinds)}")
    kind = KINDS[kind_name]
    params = {k: v for k, v in definition.items() if k != "kind"}
    unknown = sorted(set(params) - set(kind.required) - set(kind.optional))
    if unknown:
        allowed = ", ".join(("kind", *kind.required, *kind.optional))
        raise ValueError(
            f"unknown key(s) {', '.join(map(repr, unknown))} in {key} (kind {kind_name}); allowed: {allowed}"
        )
    for p in kind.required:
        if p not in params:
            raise ValueError(f"{key}: kind {kind_name} needs {', '.join(kind.required)}; {p!r} is missing")
    for p, value in params.items():
        if p == "distribution":
            if value not in DISTRIBUTIONS:
                raise ValueError(
                    f"{key}.distribution = {value!r} is not allowed; expected one of {', '.join(DISTRIBUTIONS)}"
                )
        elif p == "base":
            if value not in SCALABLE_BASES:
                raise ValueError(f"{key}.base = {value!r} is not allowed; expected one of {', '.join(SCALABLE_BASES)}")
        elif not _positive_number(value):
            raise ValueError(f"{key}.{p} = {value!r} is not allowed; expected a number > 0")
    return spec(kind_name, **{k: (float(v) if k not in ("distribution", "base") else v) for k, v in params.items()})


def parse_custom_inits(definitions: Mapping[str, Any] | None) -> dict[str, InitSpec]:
    """Every ``custom_inits`` entry checked and parsed (see :func:`parse_custom_init`)."""
    return {name: parse_custom_init(name, d) for name, d in (definitions or {}).items()}
