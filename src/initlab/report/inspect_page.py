"""``initlab inspect --html``: one self-contained page in the report's style for a user's model.

The page only reads the :class:`~initlab.engine.inspect.Inspection`: its verdicts and init-check
sentences, the per-layer table, and two figures drawn from the table, the per-layer output std
and the per-layer gradient norms, each on a log axis with the study's failure thresholds dashed;
for a residual model, the stream's std per block and each branch's scale (a third figure and a
table); for attention, each call's projections and logits' scale.
CSS (the report's own ``_style.css.j2``) and figures (base64 PNG) are inline, so the file opens
offline and can be archived alone.
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import jinja2  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from initlab.engine import attention  # noqa: E402
from initlab.engine.health import EXPLODED_STD, VANISHED_STD  # noqa: E402
from initlab.engine.inspect import LAYER_COLUMNS, Inspection, describe, grouped  # noqa: E402
from initlab.report.inspect_text import criteria_text  # noqa: E402
from initlab.report.render import find_templates_dir, html_table  # noqa: E402

TEMPLATE_NAME = "inspect.html.j2"
#: Resolution of the PNGs, as the report's figures.
DPI = 100
#: Colour of rows (points) that fail a criterion.
FAIL_COLOUR = "#b42318"
OK_COLOUR = "#0b5cad"


def layers_frame(inspection: Inspection) -> pd.DataFrame:
    """The per-layer table (``LAYER_COLUMNS``) as a DataFrame."""
    return pd.DataFrame([r.as_dict() for r in inspection.rows], columns=LAYER_COLUMNS)


def _positive(values: pd.Series) -> pd.Series:
    values = pd.to_numeric(values, errors="coerce")
    return values.where((values > 0) & values.map(math.isfinite))


def _labels(df: pd.DataFrame) -> list[str]:
    return [f"{c}. {p} ({t})" for c, p, t in zip(df["call"], df["path"], df["type"], strict=True)]


def _axis(ax: plt.Axes, df: pd.DataFrame, column: str, failing: pd.Series, label: str) -> None:
    y = _positive(df[column])
    x = range(len(df))
    ax.plot(x, y, color=OK_COLOUR, lw=1, marker="o", ms=3)
    bad = failing & y.notna()
    ax.scatter(
        [i for i, b in zip(x, bad, strict=True) if b],
        y[bad],
        color=FAIL_COLOUR,
        zorder=3,
        s=22,
        label="fails a criterion",
    )
    if y.notna().any():
        ax.set_yscale("log")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)


def fig_std(df: pd.DataFrame) -> Figure:
    """Output std per layer call, with the vanished and exploded thresholds."""
    fig, ax = plt.subplots(figsize=(10, 3.6))
    _axis(ax, df, "std", df["verdict"] != "ok", "output std")
    for level in (VANISHED_STD, EXPLODED_STD):
        ax.axhline(level, color="grey", ls="--", lw=0.8)
    ax.set_title("Forward signal: std of each layer's output (dashed: vanished / exploded thresholds)")
    _xticks(ax, df)
    return fig


def fig_gradients(df: pd.DataFrame) -> Figure:
    """||dL/dh|| and ||dL/dW|| per layer call."""
    fig, ax = plt.subplots(figsize=(10, 3.6))
    _axis(ax, df, "act_grad_norm", df["verdict"].str.contains("gradient"), "gradient norm")
    w = _positive(df["grad_norm"])
    ax.plot(range(len(df)), w, ls="none", marker="s", ms=4, color="#55A868", label="||dL/dW|| (weights)")
    ax.lines[0].set_label("||dL/dh|| (outputs)")
    ax.legend(fontsize=8, loc="best")
    ax.set_title("Backward signal: gradient norms per layer")
    _xticks(ax, df)
    return fig


def _xticks(ax: plt.Axes, df: pd.DataFrame) -> None:
    ax.set_xticks(range(len(df)))
    ax.set_xticklabels(_labels(df), rotation=60, ha="right", fontsize=7 if len(df) < 40 else 5)
    ax.set_xlabel("layer call, in forward order")


#: Columns of the residual table on the page, in order (``ResidualBlock.as_dict`` keys).
RESIDUAL_COLUMNS = [
    "name",
    "shortcut",
    "after",
    "stream_std",
    "branch_std",
    "output_std",
    "scale",
    "growth",
    "zero_branch",
    "normalized",
    "branch_last",
]


def residual_frame(inspection: Inspection) -> pd.DataFrame:
    """One row per residual block: the stream's std before and after, the branch's, and its scale."""
    blocks = [] if inspection.residual is None else inspection.residual.blocks
    return pd.DataFrame([b.as_dict() for b in blocks], columns=RESIDUAL_COLUMNS)


def fig_residual(df: pd.DataFrame) -> Figure:
    """The residual stream's std per block (before and after it) and each branch's scale to the stream."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.2), sharex=True)
    x = range(len(df))
    stream = _positive(df["output_std"])
    top.plot(x, _positive(df["stream_std"]), color="grey", lw=1, marker=".", label="stream std before the block")
    top.plot(x, stream, color=OK_COLOUR, lw=1.2, marker="o", ms=3, label="stream std after the block")
    for level in (VANISHED_STD, EXPLODED_STD):
        top.axhline(level, color="grey", ls="--", lw=0.8)
    if stream.notna().any():
        top.set_yscale("log")
    top.set_ylabel("std")
    top.legend(fontsize=8, loc="best")
    top.grid(alpha=0.3)
    top.set_title("Residual stream: std per block (dashed: vanished / exploded thresholds)")
    scale = pd.to_numeric(df["scale"], errors="coerce")
    zero = df["zero_branch"].astype(bool)
    bottom.bar(x, scale.fillna(0), color="#55A868")
    bottom.scatter(
        [i for i, z in zip(x, zero, strict=True) if z], [0] * int(zero.sum()), color=FAIL_COLOUR, zorder=3, s=22
    )
    bottom.set_ylabel("std(branch) / std(shortcut)")
    bottom.set_title("Branch-to-stream scale per block (red: a branch that is 0 at init)")
    bottom.grid(alpha=0.3)
    bottom.set_xticks(list(x))
    bottom.set_xticklabels(df["name"], rotation=60, ha="right", fontsize=7 if len(df) < 40 else 5)
    bottom.set_xlabel("residual block, in forward order")
    return fig


def png_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def render_page(inspection: Inspection, title: str, templates_dir: str | Path | None = None) -> str:
    """The page's HTML."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(find_templates_dir(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    df = layers_frame(inspection)
    checks = pd.DataFrame(
        [c.as_dict() for c in inspection.checks],
        columns=[
            "path",
            "type",
            "fan_in",
            "fan_out",
            "next_type",
            "sigma_w2",
            "critical",
            "gain",
            "gain_at_q",
            "status",
            "suggestion",
        ],
    )
    context = {
        "title": title,
        "summary": inspection.summary(),
        "verdict": inspection.verdict,
        "outputs": inspection.outputs,
        "gradient_ratio": inspection.gradient_ratio,
        "loss": inspection.loss,
        "failing": [{"path": r.path, "type": r.type, "verdict": r.verdict} for r in inspection.failing_rows],
        "messages": [describe(group) for group in grouped(inspection.checks)],
        "residual": None
        if inspection.residual is None
        else {
            "sentences": inspection.residual.sentences(),
            "table": html_table(residual_frame(inspection)),
            "figures": [{"name": "residual_stream.png", "src": png_uri(fig_residual(residual_frame(inspection)))}],
        },
        "attention": [attention.describe(group) for group in attention.grouped(inspection.attention)],
        "attention_table": html_table(
            pd.DataFrame([{k: v for k, v in a.as_dict().items() if k != "message"} for a in inspection.attention])
        ),
        "checks": html_table(checks),
        "layers": html_table(df),
        "containers": html_table(
            pd.DataFrame([c.as_dict() for c in inspection.containers], columns=["path", "type", "shape", "mean", "std"])
        ),
        "figures": [
            {"name": "layer_std.png", "src": png_uri(fig_std(df))},
            {"name": "layer_gradients.png", "src": png_uri(fig_gradients(df))},
        ],
        "notes": inspection.notes,
        "criteria": criteria_text(),
    }
    return env.get_template(TEMPLATE_NAME).render(**context)


def write_page(inspection: Inspection, path: str | Path, title: str, templates_dir: str | Path | None = None) -> Path:
    """Write the page to ``path`` and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(inspection, title, templates_dir), encoding="utf-8")
    return path
