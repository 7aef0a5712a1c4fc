"""How a figure shows many inits: family hues, clipped log axes, legends outside the data.

Eleven inits on one qualitative palette are hard to tell apart (xavier vs xavier_uniform, he vs
he_uniform), and one exploding init (``large`` at depth 16 reaches a loss of 10^12) stretches a
log axis until every other init is one flat line. Three reusable pieces, for any figure:

* :func:`init_styles`: one :class:`SeriesStyle` per init. Members of a family
  (:data:`INIT_FAMILIES`) share a hue and differ by line style and marker; an init in no family
  (a custom one) gets a hue of its own.
* :func:`clip_exploding`: after drawing, clips the y range of log axes to the range of the series
  that do not explode, marks each series beyond it at the edge, and returns a :class:`Clipping`
  whose :meth:`~Clipping.caption` is the sentence the figure's caption needs
  (:func:`add_caption` puts it under the figure).
* :func:`legend_outside`: the figure's legend to the right of every panel, never on the data.
* :func:`plain_log_labels`: log-axis tick labels as plain text ("10⁻³"), not mathtext.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import matplotlib.scale as mscale
import matplotlib.transforms as mtransforms
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogFormatterSciNotation

#: Init families: members share a hue, told apart by line style and marker. Ordered as the
#: lesson introduces them; the first member of a family is drawn solid with a circle.
INIT_FAMILIES: dict[str, tuple[str, ...]] = {
    "default": ("default",),
    "zeros": ("zeros",),
    "tiny": ("tiny",),
    "large": ("large",),
    "xavier": ("xavier", "xavier_uniform"),
    "he": ("he", "he_uniform"),
    "lecun": ("lecun",),
    "orthogonal": ("orthogonal",),
    "lsuv": ("lsuv",),
}
#: Line style and marker of a family's 1st, 2nd, ... member.
MEMBER_LINESTYLES = ("-", "--", ":", "-.")
MEMBER_MARKERS = ("o", "s", "^", "D", "v", "P")
#: Hues: one per family from tab10 (nine families, tab10's grey left out so that no init looks
#: like the grey threshold lines), then custom inits from Dark2 and, past those, evenly spaced husl.
FAMILY_PALETTE = "tab10"
CUSTOM_PALETTE = "Dark2"
GREY_INDEX = 7  # tab10's grey
#: A log axis is clipped where the series' extremes jump by at least this factor (one decade):
#: "an order of magnitude beyond the others". Measured on the default study: ``large``'s median
#: loss at depth 16 (relu, adam) is ~1e11 while every other init stays below ~2, a jump of 1e10.
CLIP_GAP = 10.0
#: Head room above (and below) the kept range on a clipped log axis, as a factor: the edge
#: markers sit just inside it, clear of the highest kept line.
CLIP_MARGIN = 2.0
#: At most this share of the series may be cut off (each side): clipping is for the odd init
#: out, and keeps the range of the large majority.
MAX_CLIPPED_SHARE = 0.25
#: Clip only when the off-scale series would take at least this share of the log axis (in
#: decades): then they dominate it. Below that, every series is drawn in full. (Half: the lesson's
#: `large` start loss of 20 against the others' 0.7 takes ~40 % of a loss axis and stays drawn,
#: its loss of 1e11 at depth 16 takes ~70 % and is clipped.)
MIN_FREED_SHARE = 1 / 2
#: Markers along one line: enough to tell the member of a family, few enough not to hide the line.
MARKERS_PER_LINE = 6
#: Edge markers per clipped series and panel (enough to show where along x it is off-scale).
EDGE_MARKERS = 6


@dataclass(frozen=True)
class SeriesStyle:
    """Colour, line style and marker of one init, the same in every figure."""

    color: tuple[float, float, float]
    linestyle: str
    marker: str

    def line_kwargs(self, n_points: int | None = None) -> dict[str, object]:
        """Keyword arguments for ``ax.plot``; with ``n_points`` about :data:`MARKERS_PER_LINE`
        markers spread along the line instead of one on every point."""
        every = max(1, n_points // MARKERS_PER_LINE) if n_points else None
        return {
            "color": self.color,
            "linestyle": self.linestyle,
            "marker": self.marker,
            "markevery": every,
            "markersize": 3.5,
        }


def family_of(name: str) -> str | None:
    """The family an init belongs to, or None for an init in no family (a custom one)."""
    for family, members in INIT_FAMILIES.items():
        if name in members:
            return family
    return None


def init_styles(names: Iterable[str]) -> dict[str, SeriesStyle]:
    """A style for every built-in init and every name given, independent of which are present.

    Built-in styles never move when other inits are added; custom names are styled in
    alphabetical order after them, each with its own hue, solid line and circle marker.
    """
    family_colours = [c for i, c in enumerate(sns.color_palette(FAMILY_PALETTE, 10)) if i != GREY_INDEX]
    styles: dict[str, SeriesStyle] = {}
    for f, members in enumerate(INIT_FAMILIES.values()):
        for m, member in enumerate(members):
            styles[member] = SeriesStyle(
                family_colours[f % len(family_colours)],
                MEMBER_LINESTYLES[m % len(MEMBER_LINESTYLES)],
                MEMBER_MARKERS[m % len(MEMBER_MARKERS)],
            )
    custom = sorted(set(names) - set(styles))
    if custom:
        dark = sns.color_palette(CUSTOM_PALETTE, 8)
        colours = dark + sns.color_palette("husl", max(len(custom) - len(dark), 1))
        for i, name in enumerate(custom):
            styles[name] = SeriesStyle(tuple(colours[i % len(colours)]), "-", "o")
    return styles


def _labelled_lines(ax: Axes) -> list:
    """The data lines of an axes: labelled ones (matplotlib names helper artists '_child…')."""
    return [line for line in ax.get_lines() if not str(line.get_label()).startswith("_")]


def _outliers_above(extremes: np.ndarray) -> int:
    """How many of the series' extremes lie beyond the first jump of :data:`CLIP_GAP` or more
    above the majority (scanning up from the 1 - :data:`MAX_CLIPPED_SHARE` quantile, so at most
    that share of them); 0 when the extremes climb without such a jump."""
    ordered = np.sort(extremes)
    start = int(np.ceil((1 - MAX_CLIPPED_SHARE) * ordered.size)) - 1
    for i in range(max(start, 0), ordered.size - 1):
        if ordered[i + 1] >= CLIP_GAP * ordered[i]:
            return int(ordered.size - 1 - i)
    return 0


@dataclass(frozen=True)
class Clipping:
    """Which series a clipped axis left off-scale: names beyond the top, and below the bottom."""

    above: tuple[str, ...] = ()
    below: tuple[str, ...] = ()
    #: Why the axis is clipped (the caption's first words).
    reason: str = "Y axis clipped to the range of the other inits, which an off-scale init would flatten"

    def __bool__(self) -> bool:
        return bool(self.above or self.below)

    @classmethod
    def merge(cls, clippings: Iterable[Clipping]) -> Clipping:
        """One record for several separately clipped panels (names in first-seen order, once)."""
        clippings = list(clippings)
        return cls(
            tuple(dict.fromkeys(n for c in clippings for n in c.above)),
            tuple(dict.fromkeys(n for c in clippings for n in c.below)),
        )

    def caption(self) -> str:
        """The sentence the figure's caption needs ("" when nothing was clipped)."""
        parts = []
        if self.above:
            parts.append(f"{', '.join(self.above)} beyond the top (▲ at the upper edge)")
        if self.below:
            parts.append(f"{', '.join(self.below)} below the bottom (▼ at the lower edge)")
        if not parts:
            return ""
        return f"{self.reason}; off-scale: " + "; ".join(parts) + "."


def clip_exploding(axes: Sequence[Axes] | np.ndarray, low: bool = False) -> Clipping:
    """Clip log y axes to the non-exploding series' range; mark clipped series at the edge.

    Call after drawing, with every panel that shares the y range (one decision for all of
    them). A series is one labelled line of one panel. The top of the axes moves down to the
    majority's range when the series' maxima, sorted, jump by :data:`CLIP_GAP` or more above
    the majority (the first such jump above the :data:`MAX_CLIPPED_SHARE` quantile) and the
    series beyond it would take :data:`MIN_FREED_SHARE` of the axis or more; with ``low`` the
    bottom moves up likewise (for quantities where vanishing is a failure, not a success).
    Unlabelled lines (thresholds drawn with ``axhline``) stay in range. Each series with values
    beyond the new range gets triangles in its colour at the edge (▲ top, ▼ bottom), at the x
    where it is off-scale; linear axes are left alone.

    Returns which series were left off-scale; :meth:`Clipping.caption` says so in words.
    """
    axes = [ax for ax in np.ravel(axes) if ax.get_yscale() == "log"]
    series = []  # (ax, line, finite positive y values)
    keep: list[float] = []
    for ax in axes:
        for line in ax.get_lines():
            y = np.asarray(line.get_ydata(), dtype=float)
            y = y[np.isfinite(y) & (y > 0)]
            if not y.size:
                continue
            if str(line.get_label()).startswith("_"):
                keep.extend([y.min(), y.max()])
            else:
                series.append((ax, line, y))
    if len(series) < 2:
        return Clipping()
    maxima = np.array([y.max() for _, _, y in series])
    minima = np.array([y.min() for _, _, y in series])
    top, bottom = maxima.max(), minima.min()
    n_above = _outliers_above(maxima)
    if n_above:
        top = max([np.sort(maxima)[len(series) - n_above - 1], *keep]) * CLIP_MARGIN
    n_below = _outliers_above(1 / minima) if low else 0
    if n_below:
        bottom = min([np.sort(minima)[n_below], *keep]) / CLIP_MARGIN
    if bottom >= top:  # the kept ranges of the two sides do not overlap: clip the top only
        bottom = minima.min()
    full, kept = np.log10(maxima.max() / minima.min()), np.log10(top / bottom)
    if (top >= maxima.max() and bottom <= minima.min()) or kept > (1 - MIN_FREED_SHARE) * full:
        return Clipping()
    above, below = [], []
    for ax in axes:
        ax.set_ylim(bottom if bottom > minima.min() else None, top if top < maxima.max() else None)
    for ax, line, _ in series:
        _mark_beyond(ax, line, bottom, top, above, below, str(line.get_label()))
    return Clipping(tuple(dict.fromkeys(above)), tuple(dict.fromkeys(below)))


def _mark_beyond(
    ax: Axes, line: Line2D, bottom: float, top: float, above: list[str], below: list[str], name: str
) -> None:
    """Mark ``line``'s points above ``top`` (▲) or below ``bottom`` (▼) at the axes' edge, at most
    ``EDGE_MARKERS`` each, and note ``name`` in ``above`` / ``below``."""
    x = np.asarray(line.get_xdata(), dtype=float)
    y = np.asarray(line.get_ydata(), dtype=float)
    for beyond, edge, marker, names in ((y > top, 0.97, "^", above), (y < bottom, 0.03, "v", below)):
        if not beyond.any():
            continue
        xs = x[beyond]
        xs = xs[np.linspace(0, xs.size - 1, min(EDGE_MARKERS, xs.size)).round().astype(int)]
        transform = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot(
            xs,
            np.full(xs.size, edge),
            transform=transform,
            linestyle="none",
            marker=marker,
            color=line.get_color(),
            markersize=6,
            clip_on=False,
            label="_clipped",
        )
        names.append(name)


def add_caption(fig: Figure, text: str, fontsize: float = 9) -> None:
    """A caption line under the figure (kept by ``savefig(bbox_inches='tight')``); nothing for ''."""
    if text:
        fig.text(0.5, 0.0, text, ha="center", va="top", fontsize=fontsize, color="#57606a", wrap=True)


def legend_outside(
    fig: Figure,
    axes: Sequence[Axes] | np.ndarray,
    order: Sequence[str] | None = None,
    labels: Callable[[str], str] | None = None,
) -> None:
    """One legend for every panel, right of the panels (never over the data), in ``order`` if given;
    ``labels`` turns a series' name into the text shown (a display name)."""
    handles: dict[str, object] = {}
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    names = [name for name in (order or handles) if name in handles]
    fig.legend(
        [handles[name] for name in names],
        [labels(n) if labels else n for n in names],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
    )


def clip_to_window(axes: Iterable[Axes], bottom: float, top: float, label: Callable[[str], str] = str) -> Clipping:
    """Draw every log axes over [bottom, top] (e.g. a few decades around the failure thresholds, so
    they stay apart on screen) and mark each labelled series beyond it at the edge (▲ / ▼)."""
    above, below = [], []
    for ax in axes:
        if ax.get_yscale() != "log":
            continue
        ax.set_ylim(bottom, top)
        for line in _labelled_lines(ax):
            _mark_beyond(ax, line, bottom, top, above, below, label(str(line.get_label())))
    return Clipping(
        tuple(dict.fromkeys(above)),
        tuple(dict.fromkeys(below)),
        reason=f"Y axis drawn from {bottom:.0e} to {top:.0e}, so the thresholds stay apart",
    )


#: Exponents as superscript characters (all in DejaVu Sans, matplotlib's default font).
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
#: A label of matplotlib's log formatter: ``$\mathdefault{10^{-3}}$``, ``$\mathdefault{2\times10^{-3}}$``.
_MATHDEFAULT = re.compile(r"\$\\mathdefault\{(.*)\}\$")


def plain_math(label: str) -> str:
    """``$\\mathdefault{2\\times10^{-3}}$`` -> ``2×10⁻³``: a log tick label as plain text (others unchanged)."""
    match = _MATHDEFAULT.fullmatch(label)
    if match is None:
        return label
    body = match.group(1).replace("\\times", "×")
    return re.sub(r"\^\{([^}]*)\}", lambda e: e.group(1).translate(_SUPERSCRIPT), body)


class PlainLogFormatter(LogFormatterSciNotation):
    """Matplotlib's log-axis labels (same ticks, same numbers) written as plain text."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return plain_math(super().__call__(x, pos))


@contextmanager
def plain_log_labels() -> Iterator[None]:
    """Within the block, log axes label their ticks with :class:`PlainLogFormatter`.

    Why: matplotlib writes "10^-3" as mathtext, and its parser (pyparsing) took about a tenth of
    the figure step's CPU time at 100 seeds (each label parsed anew in every figure process). Log
    scales create their formatter in ``matplotlib.scale``, so the class is swapped there and restored.
    """
    original = mscale.LogFormatterSciNotation
    mscale.LogFormatterSciNotation = PlainLogFormatter
    try:
        yield
    finally:
        mscale.LogFormatterSciNotation = original
