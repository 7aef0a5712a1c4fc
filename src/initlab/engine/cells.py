"""The study's cells: what one job computes, apart from its init schemes and seeds.

One frozen dataclass per job kind (``ProbeCell``, ``TrainSpec``, ``AblationCell``, ``ModelCell``). Each knows
the values it gives every row it produces (:meth:`columns`, in the tables' column names), so
the engine's rows, the study's expected keys and the report's cell columns all read the same
fields. Pure Python on purpose: the workflow builds the cells of a config while building its
DAG, where importing torch would cost seconds. The names of activations and optimizers are
checked where they are looked up (``initlab.engine.activations``, ``initlab.engine.train``) and,
for a config, by the schema before any job runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is an integer >= 1, else raise a ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def _check_name(value: object, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a name, got {value!r}")


class Cell:
    """What every cell type shares: its row columns and its JSON form."""

    #: The fields every row of this cell's tables carries, by column name.
    ROW_FIELDS: ClassVar[tuple[str, ...]] = ()

    def columns(self) -> dict[str, object]:
        """This cell's values in every row it produces (learning rates as floats)."""
        values = {name: getattr(self, name) for name in self.ROW_FIELDS}
        if "lr" in values:
            values["lr"] = float(values["lr"])
        return values

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        """The cell of ``data`` (as :meth:`to_dict` wrote it); unknown or missing fields raise ``ValueError``."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown field(s) {unknown}; expected {sorted(names)}")
        try:
            return cls(**data)
        except TypeError as err:
            raise ValueError(f"{cls.__name__}: {err}") from None


@dataclass(frozen=True)
class ProbeCell(Cell):
    """One probe job's networks: an activation and a width, at every configured depth."""

    activation: str
    width: int
    depths: tuple[int, ...]

    ROW_FIELDS: ClassVar[tuple[str, ...]] = ("activation", "width")

    def __post_init__(self) -> None:
        _check_name(self.activation, "activation")
        check_positive_int(self.width, "width")
        object.__setattr__(self, "depths", tuple(self.depths))
        for depth in self.depths:
            check_positive_int(depth, "depth")


@dataclass(frozen=True)
class TrainSpec(Cell):
    """One training cell: everything but the init scheme and the seed."""

    depth: int = 2
    width: int = 64
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 0.01
    steps: int = 120
    curve_stride: int = 1

    ROW_FIELDS: ClassVar[tuple[str, ...]] = ("depth", "width", "activation", "optimizer", "lr", "steps")

    def __post_init__(self) -> None:
        check_positive_int(self.depth, "depth")
        check_positive_int(self.width, "width")
        check_positive_int(self.steps, "steps")
        check_positive_int(self.curve_stride, "curve_stride")
        _check_name(self.activation, "activation")
        _check_name(self.optimizer, "optimizer")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not self.lr > 0:
            raise ValueError(f"lr must be a number > 0, got {self.lr!r}")
        if not math.isfinite(self.lr):
            raise ValueError(f"lr must be finite, got {self.lr!r}")

    def curve_steps(self) -> list[int]:
        """Steps at which the loss curve is kept: 0, stride, 2*stride, ... and always the last."""
        return list(range(0, self.steps, self.curve_stride)) + [self.steps]


def _check_lr(lr: object) -> None:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a number > 0, got {lr!r}")
    if not math.isfinite(lr):
        raise ValueError(f"lr must be finite, got {lr!r}")


@dataclass(frozen=True)
class ModelCell(Cell):
    """One configured model's training cell: the model, its data set, an optimizer and lr.

    ``factory`` is ``FILE.py:FUNCTION`` and ``kwargs`` its keyword arguments; ``activation`` the
    registry activation whose gain the gain-dependent schemes use (``orthogonal``); ``batch_size``
    None trains on the full batch, as the lesson does.
    """

    model: str
    factory: str
    dataset: str
    optimizer: str
    lr: float
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    activation: str = "relu"
    steps: int = 120
    batch_size: int | None = None
    curve_stride: int = 1

    ROW_FIELDS: ClassVar[tuple[str, ...]] = ("model", "dataset", "optimizer", "lr", "steps")

    def __post_init__(self) -> None:
        for name in ("model", "factory", "dataset", "optimizer", "activation"):
            _check_name(getattr(self, name), name)
        check_positive_int(self.steps, "steps")
        check_positive_int(self.curve_stride, "curve_stride")
        if self.batch_size is not None:
            check_positive_int(self.batch_size, "batch_size")
        if not isinstance(self.kwargs, Mapping):
            raise ValueError(f"kwargs must be a mapping, got {self.kwargs!r}")
        object.__setattr__(self, "kwargs", dict(self.kwargs))
        _check_lr(self.lr)

    def curve_steps(self) -> list[int]:
        """Steps at which the loss curve is kept (as :meth:`TrainSpec.curve_steps`)."""
        return list(range(0, self.steps, self.curve_stride)) + [self.steps]


@dataclass(frozen=True)
class AblationCell(Cell):
    """One layer-swap ablation: a training cell and the two inits whose layers are swapped."""

    spec: TrainSpec
    init_a: str
    init_b: str

    ROW_FIELDS: ClassVar[tuple[str, ...]] = TrainSpec.ROW_FIELDS + ("init_a", "init_b")

    def __post_init__(self) -> None:
        if isinstance(self.spec, Mapping):
            object.__setattr__(self, "spec", TrainSpec.from_dict(self.spec))
        _check_name(self.init_a, "init_a")
        _check_name(self.init_b, "init_b")

    def columns(self) -> dict[str, object]:
        return self.spec.columns() | {"init_a": self.init_a, "init_b": self.init_b}
