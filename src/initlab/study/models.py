"""Configured models and data sets (``models:``, ``datasets:``): their files, and the check that
refuses a bad one before any job runs.

:func:`check_models` is part of the config check (``initlab.study.configcheck.check_study``): every
model's data set exists; every data set is usable (a file's keys and labels,
``initlab.engine.datasets.describe``); every factory file and function exists, builds a
``torch.nn.Module`` and maps a few of its data set's inputs to (N, classes) logits. Each
mistake is one line naming the model or data set and what was expected, raised while Snakemake
builds its DAG, so no job starts. It imports torch (about a second), but only for a config
with ``models:``; the rest of this module is pure Python.

Paths: a model's ``factory`` file and a data set's ``file`` are read relative to the directory
the workflow runs in; one that is not there but is in the repository (the shipped
``examples/``) is read from the repository, so ``config/digits.yaml`` runs from any
``--directory`` (:func:`resolve_paths`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

Config = Mapping[str, Any]

#: Where the ``model_dataset`` rule writes a configured data set (``{name}``: its config name).
DATASET_PATTERN = "results/data/datasets/{name}.npz"


def dataset_path(name: str) -> str:
    """The .npz a data set's model jobs read."""
    return DATASET_PATTERN.format(name=name)


def factory_file(factory: str) -> str:
    """The file of ``FILE.py:FUNCTION``."""
    return factory.rpartition(":")[0]


def _resolve(path: str, root: Path) -> str:
    if Path(path).is_absolute() or Path(path).exists() or not (root / path).exists():
        return path
    return str(root / path)


def resolve_paths(config: Config, root: str | Path) -> dict[str, Any]:
    """A copy of ``config`` whose models' factory files and data sets' files that are missing in
    the working directory but present under ``root`` (the repository) name the latter."""
    root = Path(root)
    resolved = copy.deepcopy(dict(config))
    for entry in (resolved.get("models") or {}).values():
        if isinstance(entry, dict) and isinstance(entry.get("factory"), str) and ":" in entry["factory"]:
            file, _, function = entry["factory"].rpartition(":")
            entry["factory"] = f"{_resolve(file, root)}:{function}"
    for entry in (resolved.get("datasets") or {}).values():
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            entry["file"] = _resolve(entry["file"], root)
    return resolved


def check_models(config: Config) -> None:
    """Refuse a config whose models or data sets cannot train (``ValueError``, one line each:
    ``invalid config: models.NAME: ...`` or ``invalid config: dataset 'NAME': ...``)."""
    models = config.get("models") or {}
    datasets = config.get("datasets") or {}
    for name, entry in models.items():
        if entry["dataset"] not in datasets:
            known = ", ".join(datasets) or "none defined"
            raise ValueError(
                f"invalid config: models.{name}.dataset = {entry['dataset']!r} is not allowed; "
                f"expected a name defined in datasets ({known})"
            )
    if not models:
        return
    from initlab.engine.datasets import describe

    try:
        infos = {
            name: describe(name, d)
            for name, d in datasets.items()
            if any(m["dataset"] == name for m in models.values())
        }
    except ValueError as err:
        raise ValueError(f"invalid config: {err}") from None
    for name, entry in models.items():
        _check_model(name, entry, entry["dataset"], infos[entry["dataset"]])


def _check_model(name: str, entry: Mapping[str, Any], dataset: str, info: Any) -> None:
    """Build model ``name`` once (seed 0) and run a few of its data set's inputs through it."""
    import numpy as np
    import torch

    from initlab.engine.cells import ModelCell
    from initlab.engine.datasets import CHECK_SAMPLES
    from initlab.engine.modeltrain import build_model

    cell = ModelCell(name, entry["factory"], dataset, "adam", 0.01, kwargs=entry.get("kwargs") or {})
    try:
        model = build_model(cell, seed=0)
    except ValueError as err:
        raise ValueError(f"invalid config: models.{name}: {str(err).removeprefix(f'model {name!r}: ')}") from None
    sample = info.sample if info.sample is not None else np.zeros((CHECK_SAMPLES, *info.sample_shape), np.float32)
    x = torch.from_numpy(np.ascontiguousarray(sample, dtype=np.float32))
    shape = tuple(x.shape)
    expected = (len(x), info.classes)
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            out = model.eval()(x)
    except Exception as err:
        text = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ValueError(
            f"invalid config: models.{name}: the model rejected dataset {dataset!r} inputs of shape "
            f"{shape}: {type(err).__name__}: {text}"
        ) from None
    got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
    if got != expected:
        raise ValueError(
            f"invalid config: models.{name}: output {got} for dataset {dataset!r} inputs of shape {shape}; "
            f"expected a tensor of shape {expected} (N, classes): one logit per class of {dataset!r}"
        )
