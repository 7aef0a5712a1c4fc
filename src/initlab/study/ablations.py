"""The ``ablations`` config list: the checks the schema cannot express, and the config line that
adds an ablation (quoted by the report when a claim has none). An entry's job and folder name
come from ``initlab.study.axes`` like every other job's.

Pure Python (no torch): the workflow calls it while building the DAG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from initlab.study.axes import ablation_name

#: An entry's keys (the ablation cell's row fields) in the order config/config.yaml writes them.
#: (tests/study/test_ablations.py holds it to exactly ``AblationCell.ROW_FIELDS``).
ABLATION_FIELDS = ("init_a", "init_b", "activation", "depth", "width", "optimizer", "lr", "steps")


def check_ablations(entries: Sequence[Mapping[str, object]]) -> None:
    """One-line ``ValueError`` for what the schema cannot say: A equal to B, an entry given twice."""
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if entry["init_a"] == entry["init_b"]:
            raise ValueError(
                f"invalid config: ablations[{i}].init_b = {entry['init_b']!r} is not allowed; "
                f"expected an init other than init_a ({entry['init_a']!r})"
            )
        name = ablation_name(entry)
        if name in seen:
            raise ValueError(
                f"invalid config: ablations[{i}] = {dict(entry)!r} is not allowed; "
                f"expected an entry not already given (it repeats ablations[{seen[name]}])"
            )
        seen[name] = i


def config_line(entry: Mapping[str, object]) -> str:
    """The YAML line (under ``ablations:``) that configures ``entry``, fields in their usual order."""
    fields = ", ".join(
        f"{k}: {entry[k]:g}" if isinstance(entry[k], float) else f"{k}: {entry[k]}"
        for k in ABLATION_FIELDS
        if k in entry
    )
    return f"  - {{{fields}}}"
