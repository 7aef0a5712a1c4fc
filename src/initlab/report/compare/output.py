"""The comparison as a short terminal summary and as a self-contained HTML page in the report's style."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from initlab.report import stats
from initlab.report.compare import Comparison, exit_status
from initlab.report.compare.seedstats import FDR_ALPHA, KS_ALPHA, METRICS
from initlab.report.compare.tablediff import format_values
from initlab.report.render import find_templates_dir, html_table

TEMPLATE_NAME = "compare.html.j2"
#: Cells called different listed in the terminal per metric, the smallest adjusted p first
#: (the HTML page and --json have every cell).
TERMINAL_CELLS = 10
#: Format version of ``--json``: bumped when a field changes meaning.
JSON_VERSION = 1


def _agree(v) -> str:
    return f"{v.seeds_agreeing}/{v.seeds_total} seeds" if v is not None and v.seeds_total else "no seeds"


def _side(comparison: Comparison, side) -> str:
    seeds = side.seeds
    return f"{side.root} ({len(seeds)} seeds: {format_values(seeds) if seeds else 'none'})"


def _cell_text(row: pd.Series, cell: tuple[str, ...]) -> str:
    return ", ".join(f"{c} {row[c]}" for c in cell)


def called_cells(comparison: Comparison, name: str) -> pd.DataFrame:
    """The metric's cells called different after the FDR control, smallest adjusted p first."""
    df = comparison.seeds.cells[name] if comparison.seeds is not None else pd.DataFrame()
    if not len(df):
        return df
    return df[df["differs"]].sort_values(["q", "p"], kind="stable")


def seed_sentence(comparison: Comparison) -> list[str]:
    """Per metric: cells in both, how many tests reject, how many are called different after FDR, KS."""
    if comparison.seeds is None:
        return ["every table is byte-identical: no difference to test"]
    lines = []
    test = "sign-flip permutation test (same seeds)" if comparison.same_seeds else "permutation test"
    for name, metric in METRICS.items():
        c = comparison.seeds.counts(name)
        if not c["cells"]:
            lines.append(f"{name}: no cell on both sides")
            continue
        lines.append(
            f"{name} ({metric.description}): {c['cells']} cells on both sides; the {test} of mean(B) − mean(A) "
            f"has p ≤ {FDR_ALPHA:g} in {c['p_below_alpha']} ({c['expected_by_chance']:g} expected by chance); "
            f"{c['differs']} called different with the false discovery rate held at {FDR_ALPHA:.0%} "
            f"(Benjamini–Hochberg over the {c['cells']} cells); spreads inconsistent (KS p < {KS_ALPHA:g}) in "
            f"{c['inconsistent']} ({c['expected_by_chance']:g} expected by chance)"
        )
    return lines


def called_lines(comparison: Comparison) -> list[str]:
    """Per metric, the cells called different (at most :data:`TERMINAL_CELLS`), each with its numbers."""
    if comparison.seeds is None:
        return []
    out = []
    for name, metric in METRICS.items():
        called = called_cells(comparison, name)
        for _, row in called.head(TERMINAL_CELLS).iterrows():
            out.append(
                f"{name} differs at {_cell_text(row, metric.cell)}: {row['mean_a']:.3g} → {row['mean_b']:.3g} "
                f"(B − A {row['diff']:.3g}, {stats.CONFIDENCE:.0%} interval "
                f"[{row['ci_low']:.3g}, {row['ci_high']:.3g}], "
                f"p {row['p']:.2g}, adjusted {row['q']:.2g})"
            )
        if len(called) > TERMINAL_CELLS:
            out.append(f"{name}: {len(called) - TERMINAL_CELLS} more cells called different (see --html or --json)")
    return out


def overall(comparison: Comparison, require_identical: bool = False) -> str:
    code = exit_status(comparison, require_identical)
    changed = comparison.changed
    if changed:
        text = f"{len(changed)} of {len(comparison.verdicts)} verdicts changed"
    else:
        text = f"all {len(comparison.verdicts)} verdicts the same"
    if comparison.identical:
        text += "; every table byte-identical"
    elif require_identical:
        text += "; tables not byte-identical (required)"
    return f"{text} (exit {code})"


def terminal_summary(comparison: Comparison, require_identical: bool = False) -> str:
    """A few dozen lines: tables, verdicts, seed statistics, provenance, the result."""
    out = ["initlab compare", f"  A: {_side(comparison, comparison.a)}", f"  B: {_side(comparison, comparison.b)}", ""]
    out.append("Tables")
    width = max(len(t.name) for t in comparison.tables)
    for t in comparison.tables:
        out.append(f"  {t.name:<{width}}  {t.summary()}")
        for c in t.columns:
            out.append(
                f"    {c.column}: {c.cells} cells; largest |B − A| {c.max_abs:.3g} at {c.where} "
                f"({c.a_value} → {c.b_value})"
                + (
                    ""
                    if math.isnan(c.max_ulps)
                    else f"; largest relative {c.max_rel:.3g}, {c.max_ulps:.3g} float32 ulps"
                )
            )
    changed = comparison.changed
    out += [
        "",
        f"Verdicts: {len(comparison.verdicts) - len(changed)} same, {len(changed)} changed"
        + ("" if comparison.same_seeds else " (different seeds: the chance of a change is given)"),
    ]
    for v in comparison.verdicts:
        if v.status == "same":
            line = f"  same     {v.key}: {v.a.verdict} (A {_agree(v.a)}, B {_agree(v.b)})"
            if v.flip_chance > 0:  # NaN (same seeds, seed-free) and 0 (unanimous) say nothing
                line += f"; flip chance {v.flip_chance:.2g}"
        else:
            a_text = f"{v.a.verdict} ({_agree(v.a)})" if v.a else "—"
            b_text = f"{v.b.verdict} ({_agree(v.b)})" if v.b else "—"
            line = f"  {v.status.upper():<8} {v.key}: A {a_text} → B {b_text}"
        out.append(line + (f"; {v.note}" if v.note and v.changed else ""))
    out += ["", "Seeds"] + [f"  {line}" for line in seed_sentence(comparison)]
    out += [f"    {line}" for line in called_lines(comparison)]
    out += ["", "Provenance"]
    groups = {
        "config": "config",
        "packages": "packages",
        "run": "run (git commit, machine)",
        "code": "code (each rule's fingerprint)",
    }
    for group, title in groups.items():
        diffs = comparison.provenance.group(group)
        if not diffs:
            out.append(f"  {title}: same")
        for d in diffs:
            out.append(f"  {group} {d.key}: {d.a} → {d.b}" + (f" ({d.remark})" if d.remark else ""))
    out += [f"  not compared: {u}" for u in comparison.provenance.unavailable]
    out += ["", f"Result: {overall(comparison, require_identical)}"]
    return "\n".join(out) + "\n"


def _verdict_rows(comparison: Comparison) -> list[dict[str, object]]:
    return [
        {
            "kind": v.kind,
            "key": v.key,
            "question": v.question,
            "status": v.status,
            "a": v.a.verdict if v.a else "—",
            "a_agree": _agree(v.a),
            "b": v.b.verdict if v.b else "—",
            "b_agree": _agree(v.b),
            "flip_chance": "" if math.isnan(v.flip_chance) else f"{v.flip_chance:.2g}",
            "note": v.note,
        }
        for v in comparison.verdicts
    ]


def _seed_tables(comparison: Comparison) -> list[dict[str, object]]:
    if comparison.seeds is None:
        return []
    out = []
    for name, metric in METRICS.items():
        df = comparison.seeds.cells[name]
        notable = df[df["differs"] | ~df["consistent"]] if len(df) else df
        out.append(
            {
                "name": name,
                "description": metric.description,
                "counts": comparison.seeds.counts(name),
                "notable": html_table(notable.drop(columns=["metric"]) if len(notable) else pd.DataFrame()),
                "all": html_table(df.drop(columns=["metric"]) if len(df) else pd.DataFrame()),
            }
        )
    return out


def render_html(
    comparison: Comparison,
    out_html: str | Path,
    require_identical: bool = False,
    templates_dir: str | Path | None = None,
) -> Path:
    """Write the comparison page (inline CSS, no external resource) to ``out_html``."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(find_templates_dir(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    columns = pd.DataFrame(
        [
            {
                "table": t.name,
                "column": c.column,
                "cells": c.cells,
                "max_abs_diff": c.max_abs,
                "max_rel_diff": c.max_rel,
                "max_float32_ulps": c.max_ulps,
                "where": c.where,
                "A": c.a_value,
                "B": c.b_value,
            }
            for t in comparison.tables
            for c in t.columns
        ]
    )
    context = {
        "a": _side(comparison, comparison.a),
        "b": _side(comparison, comparison.b),
        "result": overall(comparison, require_identical),
        "changed": bool(comparison.changed),
        "same_seeds": comparison.same_seeds,
        "tables": [
            {"name": t.name, "identical": t.identical, "summary": t.summary(), "rows": f"{t.rows_a} / {t.rows_b}"}
            for t in comparison.tables
        ],
        "columns": html_table(columns),
        "verdicts": _verdict_rows(comparison),
        "seed_lines": seed_sentence(comparison),
        "methods": [
            {"name": m.name, "description": m.description, "measured": m.measured} for m in stats.METHODS.values()
        ],
        "seed_tables": _seed_tables(comparison),
        "confidence": f"{stats.CONFIDENCE:.0%}",
        "provenance": [
            {"group": d.group, "key": d.key, "a": d.a, "b": d.b, "remark": d.remark}
            for d in comparison.provenance.differences
        ],
        "unavailable": comparison.provenance.unavailable,
    }
    html = environment.get_template(TEMPLATE_NAME).render(**context)
    out_html = Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    out_html.write_text(html, encoding="utf-8")
    return out_html


def _number(value: object) -> object:
    """A JSON value: numpy scalars as Python ones, NaN and ±inf as null (the note says why)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def comparison_json(comparison: Comparison, require_identical: bool = False) -> dict[str, object]:
    """The comparison as plain data: every metric's per-cell result, the verdicts, the methods."""
    metrics = {}
    for name, metric in METRICS.items():
        df = comparison.seeds.cells[name] if comparison.seeds is not None else pd.DataFrame()
        metrics[name] = {
            "table": metric.table,
            "column": metric.column,
            "cell": list(metric.cell),
            "description": metric.description,
            "counts": (
                {k: _number(v) for k, v in comparison.seeds.counts(name).items()}
                if comparison.seeds is not None
                else None
            ),
            "cells": [
                {k: _number(v) for k, v in record.items() if k != "metric"} for record in df.to_dict(orient="records")
            ],
        }
    return {
        "version": JSON_VERSION,
        "a": str(comparison.a.root),
        "b": str(comparison.b.root),
        "seeds_a": [_number(s) for s in comparison.a.seeds],
        "seeds_b": [_number(s) for s in comparison.b.seeds],
        "same_seeds": comparison.same_seeds,
        "identical": comparison.identical,
        "exit_status": exit_status(comparison, require_identical),
        "fdr_alpha": FDR_ALPHA,
        "methods": {m.name: {"description": m.description, "measured": m.measured} for m in stats.METHODS.values()},
        "verdicts": [
            {
                "kind": v.kind,
                "key": v.key,
                "status": v.status,
                "a": v.a.verdict if v.a else None,
                "b": v.b.verdict if v.b else None,
                "flip_chance": _number(v.flip_chance),
                "support_p": _number(v.support_p),
            }
            for v in comparison.verdicts
        ],
        "metrics": metrics,
    }


def write_json(comparison: Comparison, out_json: str | Path, require_identical: bool = False) -> Path:
    """Write :func:`comparison_json` to ``out_json`` (standard JSON: no NaN, sorted as computed)."""
    out_json = Path(out_json)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(
        json.dumps(comparison_json(comparison, require_identical), indent=1, allow_nan=False) + "\n", encoding="utf-8"
    )
    return out_json
