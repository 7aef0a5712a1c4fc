"""The ``ablations`` config list: each entry's job name, the checks the schema cannot express,
and the config line that adds an ablation (quoted by the report when a claim has none).

Pure Python (no torch): the workflow calls it while building the DAG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: An entry's keys in the order they are written; the schema fills the defaults.
ABLATION_FIELDS = ("init_a", "init_b", "activation", "depth", "width", "optimizer", "lr", "steps")


def ablation_name(entry: Mapping[str, object]) -> str:
    """The entry's folder name under ``results/ablation/``: every field, so two entries never share one."""
    return (
        f"{entry['activation']}_{entry['optimizer']}_lr{float(entry['lr']):g}_depth{entry['depth']}"  # type: ignore[arg-type]
        f"_width{entry['width']}_steps{entry['steps']}_{entry['init_a']}_vs_{entry['init_b']}"
    )


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
    fields = ", ".join(f"{k}: {entry[k]:g}" if isinstance(entry[k], float) else f"{k}: {entry[k]}"
                       for k in ABLATION_FIELDS if k in entry)
    return f"  - {{{fields}}}"
