"""The lesson's questions, answered from the study's tables.

Every answer is a pure function of the tidy tables: it states its criterion
(thresholds are the module constants below, each with the reason for its
value), the numbers behind it, and how many seeds agree. Nothing here knows
which init *should* win: the lesson's expected answers are what the tests
check against, and the tests also flip the data to prove the sentence follows.

The tables are produced by the workflow (``results/tables/*.csv``); this
module never recomputes the science, it only reads those observations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from initlab import stats
from initlab import tables as schema

# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

#: Required columns of every table the report reads: the schema of
#: :mod:`initlab.tables`, where each table's columns are listed once.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    **{name: tuple(columns) for name, (columns, _keys) in schema.TABLES.items()},
    "lab_reproduction": tuple(schema.LAB_COLUMNS),
    "timings": tuple(schema.TIMING_COLUMNS),
}
#: Tables that may be missing: run times are not reproducible, so a rerun
#: from cached tables may not have them.
OPTIONAL_TABLES = frozenset({"timings"})
#: Columns holding True/False flags (CSV gives strings when NaN is mixed in).
BOOL_COLUMNS = ("diverged", "probe_all_finite", "matches")
#: Columns whose *printed form* carries information (the number of decimals
#: is the resolution of the lesson's print), so they are kept as text.
TEXT_COLUMNS = ("lesson_value", "measured_value", "row", "lab", "metric")

#: Display order of init schemes (figures, tables); unknown names go last.
INIT_ORDER = (
    "default", "zeros", "tiny", "large", "xavier", "he", "xavier_uniform", "he_uniform",
    "lecun", "orthogonal", "lsuv",
)


@dataclass(frozen=True)
class Tables:
    """The study's tables as loaded from ``results/tables``."""

    signal_probe: pd.DataFrame
    training: pd.DataFrame
    curves: pd.DataFrame
    lab_reproduction: pd.DataFrame
    timings: pd.DataFrame | None


def load_tables(tables_dir: str | Path) -> Tables:
    """Read and type-check every table; fail with the missing file or column named."""
    tables_dir = Path(tables_dir)
    paths = {name: tables_dir / f"{name}.csv" for name in TABLE_COLUMNS}
    missing = [str(path) for name, path in paths.items() if not path.exists() and name not in OPTIONAL_TABLES]
    if missing:
        raise FileNotFoundError(f"missing tables: {', '.join(missing)}")
    loaded: dict[str, pd.DataFrame | None] = {}
    for name, path in paths.items():
        text_cols = {col: str for col in TEXT_COLUMNS if col in TABLE_COLUMNS[name]}
        loaded[name] = normalise_table(name, pd.read_csv(path, dtype=text_cols)) if path.exists() else None
    return Tables(**loaded)


def normalise_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Check the columns of table ``name`` and coerce flag columns to bool."""
    missing = [col for col in TABLE_COLUMNS[name] if col not in df.columns]
    if missing:
        raise ValueError(f"table {name} lacks columns {missing}")
    df = df.copy()
    for col in BOOL_COLUMNS:
        if col in df.columns:
            df[col] = df[col].map(_to_bool).astype(bool)
    return df


def _to_bool(value: object) -> bool:
    """CSV flags: True/False, true/false, 1/0; anything unreadable counts as False."""
    return str(value).strip().lower() in {"true", "1", "1.0", "yes"}


def init_order(names: Iterable[str]) -> list[str]:
    """Names sorted by :data:`INIT_ORDER`, unknown ones alphabetically after."""
    unique = sorted(set(names))
    known = [name for name in INIT_ORDER if name in unique]
    return known + [name for name in unique if name not in INIT_ORDER]


# --------------------------------------------------------------------------
# Answer records
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A computed answer to one of the lesson's questions.

    ``seeds_agreeing``/``seeds_total`` count the seeds in which the verdict's
    claim holds on its own; where an answer has several parts (one per
    activation), it is the least-agreed part, so the count never overstates.
    """

    question: str
    criterion: str
    verdict: str
    sentence: str
    numbers: pd.DataFrame
    seeds_agreeing: int
    seeds_total: int


@dataclass(frozen=True)
class Criterion:
    """A named test on table rows: ``test`` is True where a row fails (failure registries) or earns the label."""

    name: str
    description: str
    test: Callable[[pd.DataFrame], pd.Series]


def first_match(df: pd.DataFrame, criteria: Mapping[str, Criterion]) -> pd.Series:
    """Name of the first criterion whose test is True for each row ('' if none).

    Registry order is priority order: a NaN network is reported as
    non-finite rather than as exploded, a diverged run with a huge start
    loss as a Bad Start rather than a Warning Start. A test that cannot be
    evaluated (NaN) counts as True: missing evidence is not health.
    """
    mode = pd.Series("", index=df.index, dtype=object)
    for criterion in reversed(list(criteria.values())):
        mode = mode.mask(criterion.test(df).fillna(True).astype(bool), criterion.name)
    return mode


def _criteria_text(criteria: Mapping[str, Criterion]) -> str:
    return "; ".join(f"{c.name}: {c.description}" for c in criteria.values())


# --------------------------------------------------------------------------
# Exercise 1: signal probe through depth
# --------------------------------------------------------------------------

#: Last-layer std below this = vanished signal. Three orders of magnitude
#: below the unit scale of the input: the lesson's tiny+ReLU prints 0.0000
#: at depth 8 while the healthy Xavier+Tanh prints 0.23.
VANISHED_STD = 1e-3
#: Last-layer std above this = exploded signal: symmetric to VANISHED_STD in
#: log scale (three orders above unit scale).
EXPLODED_STD = 1e3
#: Fraction of units with |x| > 0.98 above which a *bounded* activation is
#: saturated. The lesson's large+Tanh prints 0.84, Xavier+Tanh 0.00. It is a
#: quarter, not a half, because for sigmoid the |x| > 0.98 test only sees the
#: upper rail (outputs near 0 are pinned too but not counted).
SATURATED_FRACTION = 0.25
#: First-layer ||dL/dh|| over last-layer ||dL/dh|| below this = vanished backward signal
#: ("backward gradients should still have a path", the lesson's map). The probe's loss feeds
#: the same unit-scale gradient into the top of every network, so the ratio is how much of it
#: reaches the first layer; the same three orders of magnitude as VANISHED_STD. Catches what
#: the forward statistics miss, e.g. a sigmoid stack whose forward std looks healthy while its
#: first layer receives ~1e-18 of the gradient.
VANISHED_GRADIENT_RATIO = 1e-3
#: Activations with rails, where |x| > 0.98 means a vanishing derivative. For
#: ReLU-like activations a large |x| is just a large value (He+ReLU prints
#: 0.19 "saturated" while healthy), so saturation is not a failure there.
BOUNDED_ACTIVATIONS = frozenset({"tanh", "sigmoid"})
#: The exercise's own depths: the lesson's probe (8) and the deeper one (20).
EX1_FROM_DEPTH = 8
EX1_TO_DEPTH = 20
#: Width of the lesson's probe network; the closest probed width is used.
LESSON_PROBE_WIDTH = 128

PROBE_FAILURES: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion(
            "non-finite",
            "some last-layer value is NaN or inf",
            lambda d: ~(d["nonfinite_ratio"].fillna(1.0) <= 0) | ~np.isfinite(d["std"].astype(float)),
        ),
        Criterion("exploded", f"last-layer std > {EXPLODED_STD:g}", lambda d: d["std"] > EXPLODED_STD),
        Criterion("vanished", f"last-layer std < {VANISHED_STD:g}", lambda d: d["std"] < VANISHED_STD),
        Criterion(
            "saturated",
            f"bounded activation ({', '.join(sorted(BOUNDED_ACTIVATIONS))}) with more than "
            f"{SATURATED_FRACTION:.0%} of last-layer units at |x| > 0.98",
            lambda d: d["activation"].isin(BOUNDED_ACTIVATIONS) & (d["saturated_ratio"] > SATURATED_FRACTION),
        ),
        Criterion(
            "gradient vanished",
            f"first-layer gradient norm below {VANISHED_GRADIENT_RATIO:g} of the last layer's",
            lambda d: d["grad_ratio"] < VANISHED_GRADIENT_RATIO,
        ),
    )
}


#: The measurement that shows each probe failure, quoted in the sentence.
FAILURE_EVIDENCE: dict[str, tuple[str, str]] = {
    "non-finite": ("nonfinite_ratio", "{:.0%} of values non-finite"),
    "exploded": ("std", "last-layer std {:.2g}"),
    "vanished": ("std", "last-layer std {:.2g}"),
    "saturated": ("saturated_ratio", "{:.0%} of units at |x| > 0.98"),
    "gradient vanished": ("grad_ratio", "first/last-layer gradient ratio {:.2g}"),
}


def closest(values: Iterable[float], target: float) -> float:
    """The available value nearest to the lesson's (ties: the smaller one)."""
    return min(values, key=lambda v: (abs(float(v) - target), float(v)))


def probe_last_layers(signal_probe: pd.DataFrame) -> pd.DataFrame:
    """Last-layer row of every probe network (lesson width), with its failure mode."""
    rows = signal_probe[signal_probe["width"] == closest(signal_probe["width"].unique(), LESSON_PROBE_WIDTH)]
    network = ["seed", "activation", "init", "depth"]
    last = rows[rows["layer"] == rows.groupby(network)["layer"].transform("max")].copy()
    first = rows[rows["layer"] == 1].set_index(network)["act_grad_norm"]
    last["grad_ratio"] = first.reindex(pd.MultiIndex.from_frame(last[network])).to_numpy() / last["act_grad_norm"].to_numpy()
    last["failure"] = first_match(last, PROBE_FAILURES)
    return last


def majority_depth(depths: pd.Series) -> float:
    """Smallest depth by which a strict majority of seeds has failed (inf: never).

    With per-seed failure depths sorted, that is element ``n // 2``: for ten
    seeds the sixth smallest, for one seed the only one.
    """
    ordered = np.sort(depths.to_numpy(dtype=float))
    return float(ordered[len(ordered) // 2])


def probe_failure_depths(signal_probe: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, init, seed): smallest probed depth whose last layer fails, and how.

    Each depth is a separate network, so this is the first depth of the grid
    at which a freshly initialised network of that depth is already broken.
    """
    last = probe_last_layers(signal_probe)
    rows = []
    for (activation, init, seed), group in last.groupby(["activation", "init", "seed"], sort=True):
        failing = group[group["failure"] != ""].sort_values("depth")
        first = failing.iloc[0] if len(failing) else None
        rows.append(
            {
                "activation": activation,
                "init": init,
                "seed": seed,
                "failure_depth": math.inf if first is None else float(first["depth"]),
                "failure": "" if first is None else first["failure"],
                "failure_value": math.nan if first is None else float(first[FAILURE_EVIDENCE[first["failure"]][0]]),
                "max_depth": float(group["depth"].max()),
            }
        )
    return pd.DataFrame(rows)


def probe_failure_summary(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, init): majority failure depth, spread over seeds, modal failure mode.

    ``failure_value`` is the median, over the seeds failing that way, of the
    measurement that triggered the failure (see :data:`FAILURE_EVIDENCE`).
    """
    rows = []
    for (activation, init), group in per_seed.groupby(["activation", "init"], sort=True):
        modes = group.loc[group["failure"] != "", "failure"]
        mode = stats.majority(modes)[0] if len(modes) else ""
        rows.append(
            {
                "activation": activation,
                "init": init,
                "failure_depth": majority_depth(group["failure_depth"]),
                "earliest_seed": group["failure_depth"].min(),
                "latest_seed": group["failure_depth"].max(),
                f"seeds_failed_by_{EX1_FROM_DEPTH}": int((group["failure_depth"] <= EX1_FROM_DEPTH).sum()),
                f"seeds_failed_by_{EX1_TO_DEPTH}": int((group["failure_depth"] <= EX1_TO_DEPTH).sum()),
                "seeds": int(group["seed"].nunique()),
                "failure": mode,
                "failure_value": group.loc[group["failure"] == mode, "failure_value"].median() if mode else math.nan,
            }
        )
    summary = pd.DataFrame(rows)
    summary["_order"] = summary["init"].map({n: i for i, n in enumerate(init_order(summary["init"]))})
    return summary.sort_values(["activation", "failure_depth", "_order"]).drop(columns="_order").reset_index(drop=True)


def _first_to_fail(
    per_seed: pd.DataFrame, summary: pd.DataFrame, candidates: list[str], limit: float
) -> tuple[list[str], float, int, int]:
    """Inits among ``candidates`` with the smallest majority failure depth (<= limit), and seed agreement.

    A seed agrees when every named init fails, by ``limit``, no later than any
    other candidate in that seed; for "none fails", when no candidate fails by
    ``limit`` in that seed.
    """
    pool = summary[summary["init"].isin(candidates)]
    depth = pool["failure_depth"].min() if len(pool) else math.inf
    named = init_order(pool.loc[pool["failure_depth"] == depth, "init"]) if depth <= limit else []
    wide = per_seed[per_seed["init"].isin(candidates)].pivot(index="seed", columns="init", values="failure_depth")
    if named:
        first = wide.min(axis=1)
        agree = (wide[named].max(axis=1) <= np.minimum(first, limit)).sum() if len(wide) else 0
    else:
        agree = (wide.min(axis=1) > limit).sum() if len(wide) else 0
    return named, depth, int(agree), int(len(wide))


EX1_QUESTION = "Change the probe network depth from 8 to 20. Which initialization fails first?"
EX1_CRITERION = (
    f"A probe network fails when its last layer shows {_criteria_text(PROBE_FAILURES)}. An init's failure "
    "depth is the smallest probed depth by which a strict majority of seeds has failed (each seed: its first "
    "failing depth). A seed agrees when the named init fails no later than any other candidate in that seed."
)


def exercise_1(signal_probe: pd.DataFrame) -> Answer:
    """"Change the probe depth from 8 to 20. Which initialization fails first?"

    Answered per activation twice: which init fails first as depth grows at
    all, and — the exercise proper — which of the inits still healthy at
    depth 8 fails first on the way to depth 20.
    """
    if signal_probe.empty:
        return _unanswerable(EX1_QUESTION, EX1_CRITERION, "the signal-probe table has no rows")
    per_seed = probe_failure_depths(signal_probe)
    summary = probe_failure_summary(per_seed)
    parts, verdicts, agreements = [], [], []
    for activation, act_seeds in per_seed.groupby("activation", sort=True):
        act_summary = summary[summary["activation"] == activation]
        sentence, verdict, agreement = _exercise_1_part(activation, act_seeds, act_summary)
        parts.append(sentence)
        verdicts.append(verdict)
        agreements.append(agreement)
    agree, total = min(agreements)
    return Answer(
        question=EX1_QUESTION,
        criterion=EX1_CRITERION,
        verdict=" | ".join(verdicts),
        sentence=" ".join(parts),
        numbers=summary,
        seeds_agreeing=agree,
        seeds_total=total,
    )


def _exercise_1_part(
    activation: str, per_seed: pd.DataFrame, summary: pd.DataFrame
) -> tuple[str, str, tuple[int, int]]:
    """Sentence, verdict and (agreeing, total) seeds for one activation; agreement is the weaker of the two claims."""
    max_depth = per_seed["max_depth"].max()
    named, depth, agree, total = _first_to_fail(per_seed, summary, init_order(summary["init"]), max_depth)
    if not named:
        return (
            f"{activation}: no init fails at any probed depth up to {max_depth:g} ({agree}/{total} seeds).",
            f"{activation}: none",
            (agree, total),
        )
    sentence = (
        f"{activation}: {_names(named)} {_verb(named)} first, at depth {depth:g} "
        f"({_failure_detail(summary, named)}), first in {agree}/{total} seeds."
    )
    healthy = summary.loc[summary["failure_depth"] > EX1_FROM_DEPTH, "init"].tolist()
    if not healthy:
        return (
            sentence + f" Every init already fails by depth {EX1_FROM_DEPTH}.",
            f"{activation}: {_names(named)}",
            (agree, total),
        )
    deep, deep_depth, deep_agree, _ = _first_to_fail(per_seed, summary, healthy, EX1_TO_DEPTH)
    if deep:
        sentence += (
            f" Of the inits still healthy at depth {EX1_FROM_DEPTH}, {_names(deep)} {_verb(deep)} first on the "
            f"way to {EX1_TO_DEPTH}, at depth {deep_depth:g} ({_failure_detail(summary, deep)}), "
            f"first in {deep_agree}/{total} seeds."
        )
        verdict = f"{activation}: {_names(named)}, then {_names(deep)}"
    else:
        sentence += (
            f" None of the {len(healthy)} inits still healthy at depth {EX1_FROM_DEPTH} fails by depth "
            f"{EX1_TO_DEPTH} in a majority of seeds ({deep_agree}/{total} seeds without any such failure)."
        )
        verdict = f"{activation}: {_names(named)}, none more by depth {EX1_TO_DEPTH}"
    return sentence, verdict, (min(agree, deep_agree), total)


def _failure_detail(summary: pd.DataFrame, inits: list[str]) -> str:
    """'init: mode, evidence' for each named init, e.g. 'tiny: vanished, last-layer std 1e-06'."""
    rows = summary.set_index("init").loc[inits]
    return "; ".join(
        f"{init}: {row['failure']}, {FAILURE_EVIDENCE[row['failure']][1].format(row['failure_value'])}"
        for init, row in rows.iterrows()
    )


# --------------------------------------------------------------------------
# Training runs: cells and the run-failure criterion
# --------------------------------------------------------------------------

#: The lesson's MoonMLP cell: 2 hidden layers of 64, ReLU, 120 steps.
LESSON_DEPTH = 2
LESSON_WIDTH = 64
LESSON_STEPS = 120
LESSON_ACTIVATION = "relu"
LESSON_OPTIMIZER = "adam"
#: Learning rate of each optimizer in the lesson and its exercise 3.
LESSON_LR = {"adam": 0.01, "sgd": 0.1}
#: Columns that identify a training cell; seeds vary inside a cell.
TRAINING_CELL = ("depth", "width", "activation", "optimizer", "lr", "steps")

#: A run shows no clear improvement when its loss did not at least halve:
#: every working init in the lesson ends below a tenth of its start loss,
#: zeros stays at exactly its start (0.693 -> 0.693).
NO_IMPROVEMENT_RATIO = 0.5
#: Two balanced classes: a coin gets 0.5.
CHANCE_ACCURACY = 0.5
#: val_acc below this is "near chance": on the lesson's 150 validation points
#: a coin's accuracy has sd 0.04, so 0.6 is 2.5 sd above chance, while even a
#: linear boundary scores ~0.85 on make_moons.
NEAR_CHANCE_ACCURACY = 0.6

RUN_FAILURES: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion(
            "diverged",
            "the loss became non-finite",
            lambda d: d["diverged"] | ~np.isfinite(d["end_loss"].astype(float)),
        ),
        Criterion(
            "no clear improvement",
            f"end_loss >= {NO_IMPROVEMENT_RATIO:g} x start_loss",
            lambda d: ~(d["end_loss"] < NO_IMPROVEMENT_RATIO * d["start_loss"]),
        ),
        Criterion(
            "near chance",
            f"val_acc < {NEAR_CHANCE_ACCURACY:g} (chance = {CHANCE_ACCURACY:g})",
            lambda d: ~(d["val_acc"] >= NEAR_CHANCE_ACCURACY),
        ),
    )
}


def with_run_failure(training: pd.DataFrame) -> pd.DataFrame:
    """Training rows plus ``failure`` (first failed criterion or '') and ``failed``."""
    out = training.copy()
    out["failure"] = first_match(out, RUN_FAILURES)
    out["failed"] = out["failure"] != ""
    return out


def select_runs(
    training: pd.DataFrame, activation: str, optimizer: str, all_depths: bool = False
) -> pd.DataFrame:
    """Rows of one activation/optimizer at the cell closest to the lesson's net.

    Depth (unless ``all_depths``), width, learning rate and steps are each set
    to the available value nearest to the lesson's, so the answers still use
    the lesson's net when the grid holds more cells, and the closest one when
    a study was configured without it (the sentence names the cell used).
    """
    rows = training[(training["activation"] == activation) & (training["optimizer"] == optimizer)]
    targets = {"width": LESSON_WIDTH, "lr": LESSON_LR.get(optimizer, math.nan), "steps": LESSON_STEPS}
    if not all_depths:
        targets = {"depth": LESSON_DEPTH, **targets}
    for col, target in targets.items():
        if len(rows) and not math.isnan(target):
            rows = rows[rows[col] == closest(rows[col].unique(), target)]
    return rows


def cell_text(rows: pd.DataFrame) -> str:
    """Human description of the training cell of ``rows`` (its first row), quoted in sentences."""
    first = rows.iloc[0]
    return (
        f"depth {first['depth']}, width {first['width']}, {first['activation']}, "
        f"{first['optimizer']} lr {first['lr']:g}, {first['steps']} steps"
    )


def _failure_counts(failures: pd.Series) -> str:
    counts = failures[failures != ""].value_counts()
    return ", ".join(f"{name} ×{n}" for name, n in counts.items()) or "—"


def _unanswerable(question: str, criterion: str, missing: str) -> Answer:
    """An answer that says which rows the tables lack instead of crashing the report."""
    return Answer(
        question=question,
        criterion=criterion,
        verdict="not answerable from these tables",
        sentence=f"Not answerable: {missing}.",
        numbers=pd.DataFrame(),
        seeds_agreeing=0,
        seeds_total=0,
    )


# --------------------------------------------------------------------------
# Exercise 2: Tanh instead of ReLU — is Xavier more competitive?
# --------------------------------------------------------------------------

#: The subjects of the question (not its answer): Xavier, judged under Tanh
#: against ReLU, with He as the lesson's ReLU-side rival.
EX2_INIT = "xavier"
EX2_RIVAL = "he"
EX2_BASELINE = "relu"
EX2_CHANGED = "tanh"
#: Column stem of P(Xavier beats He) in the numbers table.
P_RIVAL = f"p_{EX2_INIT}_beats_{EX2_RIVAL}"

EX2_QUESTION = "Replace ReLU with Tanh in MoonMLP. Does Xavier become more competitive?"
EX2_CRITERION = (
    f"Per seed, Xavier's distance from the best init is log(end_loss({EX2_INIT}) / min over inits of end_loss) "
    "(a non-finite end loss counts as worst). Xavier becomes more competitive when that distance is smaller "
    f"under {EX2_CHANGED} than under {EX2_BASELINE} in a strict majority of seeds (paired by seed), "
    f"with {LESSON_OPTIMIZER} at the lesson's net. Also shown: rank by mean end loss and P({EX2_INIT} beats "
    f"{EX2_RIVAL}) per seed."
)


def xavier_gaps(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (depth, activation, seed): Xavier's end loss, the seed's best init and the log gap to it."""
    scored = rows.assign(score=stats.as_worst_if_nonfinite(rows["end_loss"]))
    out = []
    for (depth, activation, seed), group in scored.groupby(["depth", "activation", "seed"], sort=True):
        best = group["score"].min()
        mine = group.loc[group["init"] == EX2_INIT, "score"]
        if mine.empty:
            continue
        mine_value = float(mine.iloc[0])
        gap = math.log(mine_value / best) if np.isfinite(best) and best > 0 else math.nan
        out.append(
            {
                "depth": depth,
                "activation": activation,
                "seed": seed,
                "xavier_end_loss": mine_value,
                "best_init": "+".join(init_order(group.loc[group["score"] == best, "init"])),
                "log_gap": gap,
                "rank": int((group["score"] < mine_value).sum()) + 1,
            }
        )
    return pd.DataFrame(out, columns=["depth", "activation", "seed", "xavier_end_loss", "best_init", "log_gap", "rank"])


def _standing(rows: pd.DataFrame) -> dict[str, float | str]:
    """Xavier's rank by mean end loss, gap to the best mean, and P(Xavier beats He)."""
    means = rows.assign(score=stats.as_worst_if_nonfinite(rows["end_loss"])).groupby("init")["score"].mean()
    best = means.min()
    beats = stats.beat_probability(rows, ["depth"], "end_loss")
    pair = beats[(beats["a"] == EX2_INIT) & (beats["b"] == EX2_RIVAL)]
    return {
        "rank": int((means < means.get(EX2_INIT, math.inf)).sum()) + 1,
        "inits": int(len(means)),
        "mean_ratio": float(means.get(EX2_INIT, math.nan) / best) if best > 0 else math.nan,
        "best": "+".join(init_order(means[means == best].index)),
        "p_beats_rival": float(pair["p_a_beats_b"].iloc[0]) if len(pair) else math.nan,
    }


def exercise_2(training: pd.DataFrame) -> Answer:
    """"Replace ReLU with Tanh in MoonMLP. Does Xavier become more competitive?\""""
    both = pd.concat(
        [select_runs(training, act, LESSON_OPTIMIZER, all_depths=True) for act in (EX2_BASELINE, EX2_CHANGED)]
    )
    if both.empty or EX2_INIT not in set(both["init"]) or both["activation"].nunique() < 2:
        missing = f"the training table has no {EX2_INIT} runs under both {EX2_BASELINE} and {EX2_CHANGED}"
        return _unanswerable(EX2_QUESTION, EX2_CRITERION, missing)
    gaps = (
        xavier_gaps(both)
        .pivot_table(index=["depth", "seed"], columns="activation", values="log_gap")
        .reindex(columns=[EX2_BASELINE, EX2_CHANGED])
    )
    rows, closer = [], {}
    for depth, per_depth in both.groupby("depth", sort=True):
        standings = {act: _standing(per_depth[per_depth["activation"] == act]) for act in (EX2_BASELINE, EX2_CHANGED)}
        paired = gaps.loc[depth].dropna() if depth in gaps.index.get_level_values(0) else pd.DataFrame()
        n_closer = int((paired[EX2_CHANGED] < paired[EX2_BASELINE]).sum()) if len(paired) else 0
        closer[depth] = (n_closer, int(len(paired)))
        row = {"depth": depth}
        for act, s in standings.items():
            row[f"rank_{act}"] = f"{s['rank']}/{s['inits']}"
            row[f"mean_end_loss_vs_best_{act}"] = s["mean_ratio"]
            row[f"median_seed_gap_{act}"] = float(np.exp(paired[act].median())) if len(paired) else math.nan
            row[f"{P_RIVAL}_{act}"] = s["p_beats_rival"]
            row[f"best_{act}"] = s["best"]
        row[f"seeds_closer_under_{EX2_CHANGED}"] = n_closer
        row["seeds"] = int(len(paired))
        rows.append(row)
    numbers = pd.DataFrame(rows)
    lesson_depth = closest(numbers["depth"], LESSON_DEPTH)
    head = numbers[numbers["depth"] == lesson_depth].iloc[0]
    n_closer, n_seeds = closer[lesson_depth]
    more = n_closer > n_seeds / 2
    other = {d: c for d, c in closer.items() if d != lesson_depth}
    holds_elsewhere = sum(1 for k, n in other.values() if (k > n / 2) == more)
    sentence = (
        f"{'Yes' if more else 'No'}: with {LESSON_OPTIMIZER} at depth {lesson_depth:g} (the lesson's net), "
        f"Xavier's end loss is a median ×{head[f'median_seed_gap_{EX2_BASELINE}']:.2f} of the per-seed best under "
        f"{EX2_BASELINE} and ×{head[f'median_seed_gap_{EX2_CHANGED}']:.2f} under {EX2_CHANGED}; it is closer to the best "
        f"under {EX2_CHANGED} in {n_closer}/{n_seeds} seeds. Rank by mean end loss: {head[f'rank_{EX2_BASELINE}']} "
        f"under {EX2_BASELINE}, {head[f'rank_{EX2_CHANGED}']} under {EX2_CHANGED}; P({EX2_INIT} beats {EX2_RIVAL}) "
        f"{_p(head[f'{P_RIVAL}_{EX2_BASELINE}'])} → {_p(head[f'{P_RIVAL}_{EX2_CHANGED}'])}."
    )
    if other:
        sentence += (
            f" The same verdict holds at {holds_elsewhere} of the {len(other)} other depths ({_depth_list(other)})."
        )
    agreeing = n_closer if more else n_seeds - n_closer
    return Answer(
        question=EX2_QUESTION,
        criterion=EX2_CRITERION,
        verdict="yes" if more else "no",
        sentence=sentence,
        numbers=numbers,
        seeds_agreeing=agreeing,
        seeds_total=n_seeds,
    )


def _depth_list(depths: Iterable[float]) -> str:
    return ", ".join(f"{d:g}" for d in sorted(depths))


def _p(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.2f}"


# --------------------------------------------------------------------------
# Exercise 3: SGD lr=0.1 instead of Adam — which init becomes fragile?
# --------------------------------------------------------------------------

EX3_BASELINE = "adam"
EX3_CHANGED = "sgd"
EX3_QUESTION = "Change Adam to SGD with lr=0.1. Which initialization becomes more fragile?"
EX3_CRITERION = (
    f"A run fails when {_criteria_text(RUN_FAILURES)}. Fragility of an init = its failure rate under "
    f"{EX3_CHANGED} minus under {EX3_BASELINE} (lesson's net, every activation shown; the verdict uses "
    f"{LESSON_ACTIVATION}); ties broken by the ratio of median end losses. A seed agrees when the named init "
    f"fails under {EX3_CHANGED} but not under {EX3_BASELINE} with that seed."
)


def fragility(training: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, init) at the lesson's net: failure rates and end losses, Adam vs SGD, paired by seed."""
    rows = []
    for activation in sorted(training["activation"].unique()):
        base = with_run_failure(select_runs(training, activation, EX3_BASELINE))
        changed = with_run_failure(select_runs(training, activation, EX3_CHANGED))
        if base.empty or changed.empty:
            continue
        for init in init_order(set(base["init"]) & set(changed["init"])):
            b = base[base["init"] == init].set_index("seed")
            c = changed[changed["init"] == init].set_index("seed")
            seeds = b.index.intersection(c.index)
            b_end = stats.as_worst_if_nonfinite(b["end_loss"]).median()
            c_end = stats.as_worst_if_nonfinite(c["end_loss"]).median()
            rows.append(
                {
                    "activation": activation,
                    "init": init,
                    f"fail_rate_{EX3_BASELINE}": b["failed"].mean(),
                    f"fail_rate_{EX3_CHANGED}": c["failed"].mean(),
                    "fail_rate_increase": c["failed"].mean() - b["failed"].mean(),
                    f"median_end_loss_{EX3_BASELINE}": b_end,
                    f"median_end_loss_{EX3_CHANGED}": c_end,
                    "end_loss_ratio": c_end / b_end if b_end > 0 else math.nan,
                    "seeds_newly_failing": int((c.loc[seeds, "failed"] & ~b.loc[seeds, "failed"]).sum()),
                    "seeds_worse_end_loss": int(
                        (
                            stats.as_worst_if_nonfinite(c.loc[seeds, "end_loss"])
                            > stats.as_worst_if_nonfinite(b.loc[seeds, "end_loss"])
                        ).sum()
                    ),
                    "seeds": int(len(seeds)),
                    f"{EX3_CHANGED}_failures": _failure_counts(c["failure"]),
                }
            )
    return pd.DataFrame(rows)


def exercise_3(training: pd.DataFrame) -> Answer:
    """"Change Adam to SGD with lr=0.1. Which initialization becomes more fragile?\""""
    numbers = fragility(training)
    if numbers.empty or LESSON_ACTIVATION not in set(numbers["activation"]):
        missing = f"the training table has no {LESSON_ACTIVATION} runs under both {EX3_BASELINE} and {EX3_CHANGED}"
        return _unanswerable(EX3_QUESTION, EX3_CRITERION, missing)
    lesson = numbers[numbers["activation"] == LESSON_ACTIVATION]
    top = lesson["fail_rate_increase"].max()
    cell = cell_text(select_runs(training, LESSON_ACTIVATION, EX3_CHANGED))
    if top > 0:
        named_rows = lesson[lesson["fail_rate_increase"] == top].sort_values("end_loss_ratio", ascending=False)
        named = named_rows["init"].tolist()
        agree = int(named_rows["seeds_newly_failing"].min())
        detail = "; ".join(
            f"{r.init}: failure rate {r[f'fail_rate_{EX3_BASELINE}']:.0%} → {r[f'fail_rate_{EX3_CHANGED}']:.0%} "
            f"({r[f'{EX3_CHANGED}_failures']}), median end loss ×{r.end_loss_ratio:.3g}"
            for _, r in named_rows.iterrows()
        )
        sentence = (
            f"{_names(named)} {_verb(named, 'becomes', 'become')} most fragile under {EX3_CHANGED} ({cell}): {detail}; "
            f"newly failing in {agree}/{int(named_rows['seeds'].min())} seeds."
        )
        verdict = _names(named)
    else:
        worst = lesson.sort_values("end_loss_ratio", ascending=False).iloc[0]
        named = [worst["init"]]
        agree = int(worst["seeds_worse_end_loss"])
        sentence = (
            f"No init fails more often under {EX3_CHANGED} than under {EX3_BASELINE} ({cell}); by median end loss "
            f"{worst['init']} degrades most (×{worst['end_loss_ratio']:.3g}), "
            f"worse in {agree}/{int(worst['seeds'])} seeds."
        )
        verdict = f"none by failure rate; {worst['init']} by end loss"
    return Answer(
        question=EX3_QUESTION,
        criterion=EX3_CRITERION,
        verdict=verdict,
        sentence=sentence,
        numbers=numbers,
        seeds_agreeing=agree,
        seeds_total=int(lesson.loc[lesson["init"].isin(named), "seeds"].min()),
    )


# --------------------------------------------------------------------------
# Next Probe: deeper MoonMLP — which init becomes fragile?
# --------------------------------------------------------------------------

NEXT_QUESTION = "Make the network deeper and compare which strategy becomes fragile."
NEXT_CRITERION = (
    f"Runs of the lesson's net ({LESSON_ACTIVATION}, {LESSON_OPTIMIZER}) at every trained depth, judged by the "
    f"run-failure criterion ({_criteria_text(RUN_FAILURES)}). An init becomes fragile at the smallest depth "
    "where it fails in a strict majority of seeds; inits already failing that way at the shallowest depth are "
    "bad starts, not depth effects, and are excluded. Rise = failure rate at the deepest minus the shallowest depth."
)


def depth_failure_rates(training: pd.DataFrame) -> pd.DataFrame:
    """Per (init, depth) of the lesson's net: failures, seeds and failure rate."""
    rows = with_run_failure(select_runs(training, LESSON_ACTIVATION, LESSON_OPTIMIZER, all_depths=True))
    grouped = rows.groupby(["init", "depth"], sort=True)
    table = grouped.agg(failures=("failed", "sum"), seeds=("seed", "nunique")).reset_index()
    table["failure_rate"] = table["failures"] / table["seeds"]
    return table


def next_probe(training: pd.DataFrame) -> Answer:
    """The lesson's Next Probe: which init's failure rate rises with depth, first failing in most seeds."""
    rates = depth_failure_rates(training)
    if rates.empty:
        missing = f"the training table has no {LESSON_ACTIVATION}/{LESSON_OPTIMIZER} runs"
        return _unanswerable(NEXT_QUESTION, NEXT_CRITERION, missing)
    depths = sorted(rates["depth"].unique())
    majority_fail = rates[rates["failures"] > rates["seeds"] / 2]
    first_fail = majority_fail.groupby("init")["depth"].min()
    wide = rates.pivot(index="init", columns="depth", values="failure_rate")
    numbers = pd.DataFrame({"init": init_order(wide.index)}).set_index("init")
    for depth in depths:
        numbers[f"fail_rate_depth_{depth:g}"] = wide[depth]
    numbers["fragile_from_depth"] = first_fail.reindex(numbers.index).astype(float).fillna(math.inf)
    numbers["rise"] = wide[depths[-1]] - wide[depths[0]]
    numbers = numbers.reset_index()
    candidates = numbers[numbers["fragile_from_depth"] > depths[0]]
    span = f"depths {depths[0]:g}–{depths[-1]:g}"
    if len(candidates) and np.isfinite(candidates["fragile_from_depth"].min()):
        depth = candidates["fragile_from_depth"].min()
        named = init_order(candidates.loc[candidates["fragile_from_depth"] == depth, "init"])
        at_depth = rates[(rates["depth"] == depth) & rates["init"].isin(named)]
        agree, total = int(at_depth["failures"].min()), int(at_depth["seeds"].min())
        rise = numbers.set_index("init").loc[named, "rise"]
        sentence = (
            f"{_names(named)} {_verb(named, 'becomes', 'become')} fragile first: "
            f"trains at depth {depths[0]:g} but fails "
            f"in a majority of seeds from depth {depth:g} ({agree}/{total} seeds there); failure rate rises by "
            f"{', '.join(f'{v:+.0%}' for v in rise)} over {span}."
        )
        verdict = f"{_names(named)} (from depth {depth:g})"
    else:
        riser = candidates.sort_values("rise", ascending=False).iloc[0] if len(candidates) else None
        total = int(rates["seeds"].min())
        if riser is not None and riser["rise"] > 0:
            worst = rates[(rates["init"] == riser["init"]) & (rates["depth"] == depths[-1])]
            agree = int(worst["failures"].iloc[0])
            sentence = (
                f"No init that trains at depth {depths[0]:g} fails in a majority of seeds up to depth {depths[-1]:g}; "
                f"the largest rise in failure rate is {riser['init']} ({riser['rise']:+.0%}, failing in "
                f"{agree}/{total} seeds at depth {depths[-1]:g})."
            )
            verdict = f"none in a majority; {riser['init']} rises most"
        else:
            agree = total
            sentence = f"No init that trains at depth {depths[0]:g} becomes more likely to fail over {span}."
            verdict = "none"
    return Answer(
        question=NEXT_QUESTION,
        criterion=NEXT_CRITERION,
        verdict=verdict,
        sentence=sentence,
        numbers=numbers,
        seeds_agreeing=agree,
        seeds_total=total,
    )


#: Section id of the report -> the answer computed for it.
ANSWERS: dict[str, Callable[[Tables], Answer]] = {
    "exercise-1": lambda t: exercise_1(t.signal_probe),
    "exercise-2": lambda t: exercise_2(t.training),
    "exercise-3": lambda t: exercise_3(t.training),
    "next-probe": lambda t: next_probe(t.training),
}


# --------------------------------------------------------------------------
# Evidence to keep
# --------------------------------------------------------------------------

#: Start loss above this is a Warning Start: twice the loss of a 50/50 guess
#: (2 ln 2 ≈ 1.39), i.e. the untrained net is already confidently wrong. The
#: lesson's large prints 20.04, its healthy starts 0.67–0.92.
WARNING_START_LOSS = 2 * math.log(2)

#: The lesson's record labels in priority order; the first that applies wins.
EVIDENCE_LABELS: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion("Bad Start", "the run fails (see the run-failure criterion)", lambda d: d["failed"]),
        Criterion(
            "Warning Start",
            f"trains, but start_loss > 2 ln 2 = {WARNING_START_LOSS:.3f}",
            lambda d: d["start_loss"] > WARNING_START_LOSS,
        ),
        Criterion(
            "Usable Start", "trains normally from an ordinary start loss", lambda d: pd.Series(True, index=d.index)
        ),
    )
}


@dataclass(frozen=True)
class EvidenceItem:
    """One line of the lesson's record: a label, the rule behind it, and who earned it."""

    label: str
    rule: str
    inits: tuple[str, ...]
    sentence: str


@dataclass(frozen=True)
class Evidence:
    """The filled-in "Evidence to keep" record and the per-init numbers behind it."""

    items: tuple[EvidenceItem, ...]
    numbers: pd.DataFrame
    cell: str


def evidence_to_keep(training: pd.DataFrame) -> Evidence:
    """Label every init of the lesson's cell by its majority label over seeds, then add the Next Probe."""
    rows = with_run_failure(select_runs(training, LESSON_ACTIVATION, LESSON_OPTIMIZER))
    rows["label"] = first_match(rows, EVIDENCE_LABELS)
    per_init = []
    for init in init_order(rows["init"]):
        group = rows[rows["init"] == init]
        label, agree, total = stats.majority(group["label"])
        per_init.append(
            {
                "init": init,
                "label": label,
                "seeds_agreeing": agree,
                "seeds": total,
                "median_start_loss": group["start_loss"].median(),
                "median_end_loss": stats.as_worst_if_nonfinite(group["end_loss"]).median(),
                "median_val_acc": group["val_acc"].median(),
                "failures": _failure_counts(group["failure"]),
            }
        )
    numbers = pd.DataFrame(
        per_init,
        columns=[
            "init", "label", "seeds_agreeing", "seeds", "median_start_loss", "median_end_loss", "median_val_acc",
            "failures",
        ],
    )
    items = []
    for label, criterion in EVIDENCE_LABELS.items():
        members = numbers[numbers["label"] == label]
        described = "; ".join(
            f"{r.init} ({r.seeds_agreeing}/{r.seeds} seeds; start {r.median_start_loss:.3g}, end "
            f"{r.median_end_loss:.3g}, val_acc {r.median_val_acc:.3g}"
            + (f"; {r.failures}" if r.failures != "—" else "")
            + ")"
            for r in members.itertuples()
        )
        items.append(
            EvidenceItem(label, criterion.description, tuple(members["init"]), described or "no init in this run")
        )
    probe = next_probe(training)
    items.append(EvidenceItem("Next Probe", probe.criterion, (), probe.sentence))
    return Evidence(tuple(items), numbers, cell_text(rows) if len(rows) else "no lesson cell in the table")


# --------------------------------------------------------------------------
# Lesson reproduction
# --------------------------------------------------------------------------

#: Lab 2 validates on 25 % of make_moons(n_samples=600): 150 examples, so
#: accuracy moves in steps of 1/150, not of its last printed digit.
LAB2_VAL_EXAMPLES = 150

#: Resolution of a printed metric: (unit name, step given the printed lesson value).
RESOLUTIONS: dict[str, tuple[str, Callable[[str], float]]] = {
    "val_acc": ("validation example", lambda printed: 1 / LAB2_VAL_EXAMPLES),
}
DEFAULT_RESOLUTION: tuple[str, Callable[[str], float]] = (
    "unit of the last printed digit",
    lambda printed: float(Decimal(1).scaleb(Decimal(printed.strip()).as_tuple().exponent)),
)

#: Size classes of a lesson-vs-measured difference, in resolution steps.
#: One step is what a floating-point reordering (another BLAS/library build)
#: produces on a value printed to a few digits; a few steps is drift of the
#: same behaviour; beyond that the behaviour itself differs.
MISMATCH_CLASSES: tuple[tuple[float, str, str], ...] = (
    (0, "identical as printed", "the printed values agree"),
    (1, "one resolution step", "the size of a floating-point rounding difference, e.g. a different library build"),
    (5, "a few steps", "numeric drift of the same behaviour"),
    (math.inf, "real difference", "the behaviour differs from the lesson"),
)


@dataclass(frozen=True)
class LabReproduction:
    """Lesson vs measured values with every mismatch sized and explained."""

    table: pd.DataFrame
    sentence: str
    matched: int
    total: int


def classify_lab_rows(lab: pd.DataFrame) -> pd.DataFrame:
    """Add the resolution step, the difference in steps and its class to every row."""
    out = lab.copy()
    units, resolutions, steps, classes = [], [], [], []
    for row in out.itertuples():
        unit, step_of = RESOLUTIONS.get(row.metric, DEFAULT_RESOLUTION)
        step = step_of(row.lesson_value)
        diff = abs(float(row.measured_value) - float(row.lesson_value))
        n_steps = int(round(diff / step)) if math.isfinite(diff) else math.inf
        units.append(unit)
        resolutions.append(step)
        steps.append(n_steps)
        classes.append(next(label for limit, label, _ in MISMATCH_CLASSES if n_steps <= limit))
    out["resolution"] = resolutions
    out["unit"] = units
    out["steps_off"] = steps
    out["difference"] = classes
    return out


def lab_reproduction(lab: pd.DataFrame) -> LabReproduction:
    """Both labs against the lesson, with a computed explanation of each mismatch."""
    table = classify_lab_rows(lab)
    mismatches = table[~table["matches"]]
    matched, total = int(table["matches"].sum()), int(len(table))
    per_lab = "; ".join(
        f"{name}: {int(group['matches'].sum())}/{len(group)} values as printed in the lesson"
        for name, group in table.groupby("lab", sort=True)
    )
    if mismatches.empty:
        return LabReproduction(table, f"Every value matches the lesson ({per_lab}).", matched, total)
    listed = "; ".join(
        f"{r.lab} {r.row} {r.metric} {r.lesson_value} → {r.measured_value} "
        f"({r.steps_off} step{'s' if r.steps_off != 1 else ''} of {r.resolution:.3g}, one {r.unit})"
        for r in mismatches.itertuples()
    )
    present = set(mismatches["difference"])
    _, worst, meaning = [c for c in MISMATCH_CLASSES if c[1] in present][-1]
    sentence = (
        f"{per_lab}. The {len(mismatches)} mismatch{'es' if len(mismatches) > 1 else ''}: {listed}. "
        f"The largest is '{worst}': {meaning}."
    )
    return LabReproduction(table, sentence, matched, total)


# --------------------------------------------------------------------------
# Wording helpers
# --------------------------------------------------------------------------


def _names(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _verb(names: list[str], singular: str = "fails", plural: str = "fail") -> str:
    return singular if len(names) == 1 else plural
