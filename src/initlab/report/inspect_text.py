"""``initlab inspect`` in the terminal, as CSV and as JSON: an :class:`Inspection` written out.

Plain Python (no pandas): the verdicts come first, as sentences wrapped at 100 columns, identical
init checks and failing layers grouped into one line with their layer range, so a 50-layer
model's verdicts fit one screen. The per-layer table (``--layers``) is aligned in the same width,
long module paths shortened from the left (the end of a path names the layer).
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

from initlab.engine import attention
from initlab.engine.depth import DEEPEST_PROBE
from initlab.engine.health import (
    BOUNDED_ACTIVATIONS,
    EXPLODED_STD,
    SATURATED_FRACTION,
    SATURATION_THRESHOLD,
    VANISHED_GRADIENT_RATIO,
    VANISHED_STD,
)
from initlab.engine.inspect import (
    GAIN_TOLERANCE,
    LAYER_COLUMNS,
    Inspection,
    describe,
    grouped,
)
from initlab.study.tables import write_csv

#: The terminal's width the output is laid out for.
WIDTH = 100


def _num(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.2g}"


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0%}"


def _left(text: str, width: int) -> str:
    """``text`` in ``width`` columns, shortened from the left with an ellipsis."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


#: Short failure names for the table's verdict column (the full ones follow the table).
SHORT = {
    "non-finite": "nonfin",
    "exploded": "explod",
    "vanished": "vanish",
    "saturated": "satur",
    "gradient vanished": "grad↓",
}

#: Terminal table: (header, width, alignment); 0 = sized to the data (layer, type, shape share
#: what the others leave). "sat" is shown for tanh/sigmoid only, where it is a criterion.
COLUMNS: list[tuple[str, int, str]] = [
    ("#", 3, ">"),
    ("layer", 0, "<"),
    ("type", 0, "<"),
    ("shape", 0, "<"),
    ("mean", 8, ">"),
    ("std", 8, ">"),
    ("zero", 4, ">"),
    ("sat", 4, ">"),
    ("|dL/dW|", 7, ">"),
    ("|dL/dh|", 7, ">"),
    ("verdict", 0, "<"),
]
#: Columns kept for the verdict ("ok", or a short failure name).
VERDICT_WIDTH = 10
#: Most columns the type and the shape may take before they are shortened.
TYPE_MAX, SHAPE_MAX = 18, 14


def column_widths(rows: list) -> list[int]:
    """Every column's width for these rows, fitting WIDTH: fixed columns first, the verdict's
    VERDICT_WIDTH, then type and shape as wide as their longest value (capped), the layer path the rest."""
    fixed = sum(w for _, w, _ in COLUMNS) + len(COLUMNS) - 1 + VERDICT_WIDTH
    shape = min(max([len(r.shape) for r in rows] + [5]), SHAPE_MAX)
    kind = min(max([len(r.type) for r in rows] + [4]), TYPE_MAX)
    path = max(WIDTH - fixed - shape - kind, 5)
    flexible = {"layer": path, "type": kind, "shape": shape, "verdict": VERDICT_WIDTH}
    return [w or flexible[h] for h, w, _ in COLUMNS]


def _cells(row, widths: list[int]) -> list[str]:
    verdict = ",".join(SHORT.get(f, f) for f in row.failures) if row.failures else "ok"
    return [
        str(row.call),
        _left(row.path, widths[1]),
        _left(row.type, widths[2]),
        _left(row.shape, widths[3]),
        _num(row.mean),
        _num(row.std),
        _pct(row.zero_ratio),
        _pct(row.saturated_ratio) if row.activation in BOUNDED_ACTIVATIONS else "",
        _num(row.grad_norm),
        _num(row.act_grad_norm),
        verdict,
    ]


def _line(cells: list[str], widths: list[int]) -> str:
    parts = [f"{c:{a}{w}}" for c, w, (_, _, a) in zip(cells, widths, COLUMNS, strict=True)]
    return " ".join(parts[:-1] + [cells[-1][: widths[-1]]]).rstrip()


def _wrap(text: str) -> str:
    return textwrap.fill(text, WIDTH, subsequent_indent="    ", break_on_hyphens=False)


def criteria_text() -> str:
    """The criteria behind the verdicts, with the thresholds' values."""
    return (
        f"vanished: std < {VANISHED_STD:g}; exploded: std > {EXPLODED_STD:g}; saturated: tanh/sigmoid "
        f"output with more than {SATURATED_FRACTION:.0%} of |x| > 0.98; non-finite: any NaN/inf; gradient "
        f"vanished: ||dL/dh|| below {VANISHED_GRADIENT_RATIO:g} of the last layer's; init check: a per-layer "
        f"gain beyond ×{GAIN_TOLERANCE:.3g} (either way) breaks a {DEEPEST_PROBE}-layer stack; residual stream: "
        f"its std, projected block by block at the measured rate, trips one of these within {DEEPEST_PROBE} "
        f"blocks; attention: more than {SATURATED_FRACTION:.0%} of queries put over {SATURATION_THRESHOLD:g} of "
        "their weight on one key"
    )


#: Most lines of failing layers (grouped) the terminal lists before pointing to --layers/--csv.
FAILING_LINES = 10


def failing_lines(inspection: Inspection) -> list[str]:
    """Failing rows grouped by type and verdict, one sentence per group, in the order each first fails."""
    groups: dict[tuple[str, str], list] = {}
    for r in inspection.failing_rows:
        groups.setdefault((r.type, r.verdict), []).append(r)
    lines = []
    for (kind, verdict), rows in groups.items():
        stds = [r.std for r in rows]
        std = f"{min(stds):.2g}" if len(rows) == 1 else f"{min(stds):.2g}–{max(stds):.2g}"
        label = (
            f"{rows[0].path} ({kind})"
            if len(rows) == 1
            else (f"layers {rows[0].path}–{rows[-1].path} ({len(rows)} × {kind})")
        )
        lines.append(f"  {label}: {verdict}; std {std}")
    return lines


def format_terminal(inspection: Inspection, title: str = "", layers: bool = False) -> str:
    """The model's verdict, the output probe, the residual stream, attention and the init checks
    (identical checks grouped with their layer range), in WIDTH columns; the per-layer table
    first when ``layers``."""
    lines = []
    if title:
        lines.append(_wrap(title))
    if layers:
        widths = column_widths(inspection.rows)
        lines.append(_line([h for h, _, _ in COLUMNS], widths))
        lines.append("-" * WIDTH)
        lines += [_line(_cells(r, widths), widths) for r in inspection.rows]
        lines.append("")
    lines.append(_wrap(f"Verdict: {inspection.verdict}: {inspection.summary()}"))
    for out in inspection.outputs:
        flag = f" -> {', '.join(out.failures)}" if out.failures else ""
        lines.append(
            _wrap(
                f"Output probe {out.name} ({out.shape}): mean {out.mean:.4g}, std {out.std:.4g}, "
                f"all finite {out.all_finite}{flag}"
            )
        )
    lines.append(
        _wrap(
            f"Gradient: the first layer receives {inspection.gradient_ratio:.2g} of the last layer's ||dL/dh||; "
            f"loss: {inspection.loss}"
        )
    )
    bad = failing_lines(inspection)
    if bad:
        lines.append("Failing layers:")
        lines += [_wrap(line) for line in bad[:FAILING_LINES]]
        if len(bad) > FAILING_LINES:
            lines.append(f"  ... and {len(bad) - FAILING_LINES} more groups (see --layers or --csv)")
    if inspection.residual is not None:
        lines += [_wrap(text) for text in inspection.residual.sentences()]
    if inspection.attention:
        lines.append("Attention (the scores softmax(q·kᵀ/√d) recomputed from each call's query and key):")
        lines += [_wrap("  " + attention.describe(group)) for group in attention.grouped(inspection.attention)]
    if inspection.checks:
        lines.append("Init check (Var(w)·fan_in against the theory's critical value for the next activation):")
        lines += [_wrap("  " + describe(group)) for group in grouped(inspection.checks)]
    for note in inspection.notes:
        lines.append(_wrap(f"Note: {note}"))
    lines.append(_wrap(f"Criteria: {criteria_text()}."))
    if not layers:
        lines.append(f"Per-layer table ({len(inspection.rows)} layer calls): --layers, or --csv/--json/--html.")
    return "\n".join(lines) + "\n"


def write_layers_csv(inspection: Inspection, path: str | Path) -> None:
    """The per-layer table as a tidy CSV (9 significant digits, NaN as an empty cell, like the study's tables)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    rows = [{k: _nulls(v) for k, v in r.as_dict().items()} for r in inspection.rows]
    write_csv(path, LAYER_COLUMNS, rows)


def write_json(inspection: Inspection, path: str | Path, extra: dict[str, object] | None = None) -> None:
    """Everything as JSON (NaN written as null)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    data = {**(extra or {}), **inspection.as_dict()}
    Path(path).write_text(json.dumps(_nulls(data), indent=1, ensure_ascii=False) + "\n")


def _nulls(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nulls(v) for v in value]
    return value
