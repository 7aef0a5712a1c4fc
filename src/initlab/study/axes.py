"""The study's jobs, from the config: one grid, walked by the workflow, the checks and the CLI.

A job is a cell (``initlab.engine.cells``: what it computes apart from inits and seeds), the
inits it runs and one seed block. :func:`jobs` builds every job of a validated config once;
Snakemake's rules, the expected rows (``initlab.study.expected``), the size checks
(``initlab.study.configlimits``) and the compute command all walk that list. A job travels
to its compute command whole, as JSON (:meth:`Job.to_json`), so no value is re-encoded into
flags or path segments and decoded back.

Learning rates (per optimizer) and widths (probe and training) take one value or a list. A list
makes the value part of the job's path (``/lr0.001``, ``/width16``); one value keeps the path
without that segment. Pure Python: the workflow calls this while building the DAG.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from initlab.engine.ablation_plan import variants
from initlab.engine.cells import AblationCell, Cell, ModelCell, ProbeCell, TrainSpec
from initlab.study.blocks import format_seeds, parse_seeds, seed_blocks

Config = Mapping[str, Any]


# --------------------------------------------------------------------------
# Config values that may be one item or a list
# --------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """A config value that may be one item or a list, as a list."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def lr_label(lr: float) -> str:
    """A learning rate as a path names it: Python's shortest round-trip form (0.001, 1e-05, 1.0),
    so two different rates never share a name."""
    return str(float(lr))


def lr_dir(lrs: list[float], lr: float) -> str:
    """The path segment of one learning rate: empty when the optimizer has only one."""
    return "" if len(lrs) == 1 else f"/lr{lr_label(lr)}"


def width_dir(widths: list[int], width: int) -> str:
    """The path segment of one width: empty when the section has only one."""
    return "" if len(widths) == 1 else f"/width{width}"


def learning_rates(training: Mapping[str, Any]) -> dict[str, list[float]]:
    """Optimizer -> its learning rates (``training.optimizers``: a number or a list per optimizer)."""
    return {opt: [float(lr) for lr in as_list(lrs)] for opt, lrs in training["optimizers"].items()}


def widths(section: Mapping[str, Any]) -> list[int]:
    """The widths of ``probe`` or ``training`` (one number or a list)."""
    return as_list(section["width"])


def seeds(config: Config) -> list[int]:
    return sorted(set(config["seeds"]))


def seed_block_names(config: Config) -> list[str]:
    """The config's seed blocks by name (``0-9``, ``10-11``), in block order."""
    return seed_blocks(seeds(config), config["seed_block_size"])


def ablation_name(entry: Mapping[str, Any]) -> str:
    """An ``ablations`` entry's folder name: every field, so two entries never share one."""
    return (
        f"{entry['activation']}_{entry['optimizer']}_lr{lr_label(entry['lr'])}_depth{entry['depth']}"
        f"_width{entry['width']}_steps{entry['steps']}_{entry['init_a']}_vs_{entry['init_b']}"
    )


# --------------------------------------------------------------------------
# The cells of a config, per kind
# --------------------------------------------------------------------------


def probe_cells(config: Config) -> list[tuple[str, ProbeCell]]:
    """(path, cell) of every probe cell: activation x width, every depth in each."""
    probe = config["probe"]
    ws = widths(probe)
    return [
        (f"{act}{width_dir(ws, w)}", ProbeCell(act, w, tuple(probe["depths"])))
        for act in probe["activations"]
        for w in ws
    ]


def train_cells(config: Config) -> list[tuple[str, TrainSpec]]:
    """(path, cell) of every training cell: activation x optimizer x lr x width x depth."""
    tr = config["training"]
    ws = widths(tr)
    return [
        (
            f"{act}/{opt}{lr_dir(lrs, lr)}{width_dir(ws, w)}/depth{depth}",
            TrainSpec(depth, w, act, opt, lr, tr["steps"], tr["curve_stride"]),
        )
        for act in tr["activations"]
        for opt, lrs in learning_rates(tr).items()
        for lr in lrs
        for w in ws
        for depth in tr["depths"]
    ]


def ablation_cells(config: Config) -> list[tuple[str, AblationCell]]:
    """(path, cell) of every configured layer-swap ablation."""
    return [
        (
            ablation_name(e),
            AblationCell(
                TrainSpec(e["depth"], e["width"], e["activation"], e["optimizer"], e["lr"], e["steps"]),
                e["init_a"],
                e["init_b"],
            ),
        )
        for e in config.get("ablations", [])
    ]


def model_cells(config: Config) -> list[tuple[str, ModelCell]]:
    """(path, cell) of every configured model (``models``) x optimizer x lr.

    A model trains like the study's ``training`` section (its optimizers and learning rates,
    steps, curve stride) unless its entry says otherwise; ``kwargs``, ``activation`` and
    ``batch_size`` default to :class:`~initlab.engine.cells.ModelCell`'s (none, relu, full batch).
    """
    tr = config["training"]
    cells = []
    for name, entry in (config.get("models") or {}).items():
        lrs_of = learning_rates({"optimizers": entry.get("optimizers") or tr["optimizers"]})
        options = {k: entry[k] for k in ("kwargs", "activation", "batch_size") if k in entry}
        cells += [
            (
                f"{name}/{opt}{lr_dir(lrs, lr)}",
                ModelCell(
                    name,
                    entry["factory"],
                    entry["dataset"],
                    opt,
                    lr,
                    steps=entry.get("steps", tr["steps"]),
                    curve_stride=entry.get("curve_stride", tr["curve_stride"]),
                    **options,
                ),
            )
            for opt, lrs in lrs_of.items()
            for lr in lrs
        ]
    return cells


# --------------------------------------------------------------------------
# Job kinds and jobs
# --------------------------------------------------------------------------

#: A row's observation keys beyond its cell's columns, for one job and one of its tables.
Observations = Callable[["Job", str], Iterator[dict[str, object]]]


def _probe_observations(job: Job, table: str) -> Iterator[dict[str, object]]:
    """One per layer of each probe network."""
    cell: ProbeCell = job.cell  # type: ignore[assignment]
    for s in job.seeds:
        for i in job.inits:
            for d in cell.depths:
                for layer in range(1, d + 1):
                    yield {"seed": s, "init": i, "depth": d, "layer": layer}


def _per_model(job: Job, with_curve: bool) -> Iterator[dict[str, object]]:
    """One per trained model (seed x init), or one per kept loss of each model's curve."""
    cell: TrainSpec | ModelCell = job.cell  # type: ignore[assignment]
    steps = cell.curve_steps() if with_curve else [None]
    for s in job.seeds:
        for i in job.inits:
            for step in steps:
                yield {"seed": s, "init": i} | ({} if step is None else {"step": step})


def _train_observations(job: Job, table: str) -> Iterator[dict[str, object]]:
    """One per trained model (``training``), one per kept loss of each model (``curves``)."""
    return _per_model(job, table == "curves")


def _ablation_observations(job: Job, table: str) -> Iterator[dict[str, object]]:
    """One per trained variant (``initlab.engine.ablation_plan.variants``)."""
    cell: AblationCell = job.cell  # type: ignore[assignment]
    for s in job.seeds:
        for v in variants(cell.spec.depth):
            yield {"seed": s, "variant": v.name, "layer": v.layer}


def _model_observations(job: Job, table: str) -> Iterator[dict[str, object]]:
    """One per trained model (``models``), one per kept loss of each model (``model_curves``)."""
    return _per_model(job, table == "model_curves")


@dataclass(frozen=True)
class Kind:
    """A kind of compute job: its cell type, its cells in a config, the rows it promises."""

    name: str
    cell_type: type[Cell]
    cells: Callable[[Config], list[tuple[str, Any]]]
    observations: Observations
    #: Whether the job reads a data set (``results/data/moons.npz``; a model job its model's).
    needs_data: bool
    #: Whether the job runs every configured init (an ablation runs its own two).
    runs_inits: bool = True


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("probe", ProbeCell, probe_cells, _probe_observations, needs_data=False),
        Kind("train", TrainSpec, train_cells, _train_observations, needs_data=True),
        Kind("ablation", AblationCell, ablation_cells, _ablation_observations, needs_data=True, runs_inits=False),
        Kind("model", ModelCell, model_cells, _model_observations, needs_data=True),
    )
}


def output_pattern(kind: str, table: str) -> str:
    """Where a job of ``kind`` writes ``table``, with Snakemake's ``{cell}`` and ``{seeds}`` wildcards."""
    return f"results/{kind}/{{cell}}/{table}_seeds_{{seeds}}.csv"


def side_pattern(kind: str, folder: str, suffix: str = ".csv") -> str:
    """A job's file beside its tables (``timings``, ``logs``), with the same wildcards."""
    return f"results/{folder}/{kind}/{{cell}}/seeds_{{seeds}}{suffix}"


@dataclass(frozen=True)
class Job:
    """One compute job: a cell, the inits it runs and one seed block."""

    kind: str
    path: str  # the cell's folder under results/<kind>/: unique among the config's cells
    cell: Any  # ProbeCell | TrainSpec | AblationCell | ModelCell, as KINDS[kind].cell_type
    inits: tuple[str, ...]
    seeds: tuple[int, ...]

    @property
    def seeds_name(self) -> str:
        return format_seeds(list(self.seeds))

    @property
    def label(self) -> str:
        """The job's name in ``timings.csv``: its kind, cell path and seed block, so unique in a study."""
        return f"{self.kind}/{self.path}/seeds_{self.seeds_name}"

    def file(self, table: str) -> str:
        """The CSV this job writes ``table`` to."""
        return output_pattern(self.kind, table).format(cell=self.path, seeds=self.seeds_name)

    def side_file(self, folder: str, suffix: str = ".csv") -> str:
        return side_pattern(self.kind, folder, suffix).format(cell=self.path, seeds=self.seeds_name)

    def rows(self, table: str) -> Iterator[dict[str, object]]:
        """The key columns of every row this job promises in ``table`` (a dict per row)."""
        columns = self.cell.columns()
        for observation in KINDS[self.kind].observations(self, table):
            yield columns | observation

    def to_json(self, custom_inits: Mapping[str, Any] | None = None) -> str:
        """The job as its compute command receives it, with the config's ``custom_inits``."""
        return json.dumps(
            {
                "kind": self.kind,
                "path": self.path,
                "cell": self.cell.to_dict(),
                "inits": list(self.inits),
                "seeds": self.seeds_name,
                "custom_inits": dict(custom_inits or {}),
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> tuple[Job, dict[str, Any]]:
        """The job and its custom inits from :meth:`to_json`'s text; a bad one raises ``ValueError``."""
        try:
            data = json.loads(text)
            kind = KINDS[data["kind"]]
            job = cls(
                data["kind"],
                data["path"],
                kind.cell_type.from_dict(data["cell"]),
                tuple(data["inits"]),
                tuple(parse_seeds(data["seeds"])),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ValueError(
                f"not a job description ({type(err).__name__}: {err}); "
                f"jobs are written by initlab.study.axes.Job.to_json"
            ) from None
        return job, dict(data.get("custom_inits") or {})


def jobs(config: Config, kind: str | None = None) -> list[Job]:
    """Every compute job of ``config`` (validated, defaults filled in), or those of one ``kind``.

    Order: kind, cell, seed block.
    """
    blocks = [tuple(parse_seeds(name)) for name in seed_block_names(config)]
    inits = tuple(config["inits"])
    return [
        Job(k.name, path, cell, inits if k.runs_inits else (), block)
        for k in KINDS.values()
        if kind in (None, k.name)
        for path, cell in k.cells(config)
        for block in blocks
    ]


def theory_grid(config: Config, section: str) -> dict[str, Any]:
    """What a theory job predicts: the ``probe`` or ``training`` section's activations, depths and
    widths, every init, and the custom inits' definitions (JSON for ``initlab theory``)."""
    part = config[section]
    return {
        "activations": list(part["activations"]),
        "inits": list(config["inits"]),
        "depths": list(part["depths"]),
        "widths": widths(part),
        "custom_inits": dict(config.get("custom_inits") or {}),
    }
