"""Evidence to keep: the lesson's record, filled in from the training table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from initlab.report import stats
from initlab.report.answers.criteria import Criterion, first_match
from initlab.report.answers.deeper import next_probe
from initlab.report.answers.runs import (
    LESSON_ACTIVATION,
    LESSON_CLASSES,
    LESSON_OPTIMIZER,
    cell_text,
    classes_of,
    failure_counts,
    select_runs,
    with_run_failure,
)
from initlab.report.answers.tables import init_order
from initlab.report.answers.text import display, sig

#: Start loss above this many times a uniform guess's loss (ln C for C classes) is a Warning
#: Start: the untrained net is already confidently wrong. For the lesson's two classes that is
#: 2 ln 2 ≈ 1.39; the lesson's large prints 20.04, its healthy starts 0.67–0.92.
WARNING_START_FACTOR = 2


def warning_start_loss(classes: int | float | pd.Series) -> float | pd.Series:
    """The Warning Start line for ``classes`` classes: :data:`WARNING_START_FACTOR` × ln C."""
    return WARNING_START_FACTOR * np.log(classes)


WARNING_START_LOSS = float(warning_start_loss(LESSON_CLASSES))

#: The lesson's record labels in priority order; the first that applies wins.
EVIDENCE_LABELS: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion("Bad Start", "the run fails (see the run-failure criterion)", lambda d: d["failed"]),
        Criterion(
            "Warning Start",
            f"trains, but start_loss > 2 ln C for C classes (2 ln 2 = {sig(WARNING_START_LOSS)} on the lesson's task)",
            lambda d: d["start_loss"] > warning_start_loss(classes_of(d)),
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
                "failures": failure_counts(group["failure"]),
            }
        )
    numbers = pd.DataFrame(
        per_init,
        columns=[
            "init",
            "label",
            "seeds_agreeing",
            "seeds",
            "median_start_loss",
            "median_end_loss",
            "median_val_acc",
            "failures",
        ],
    )
    items = []
    for label, criterion in EVIDENCE_LABELS.items():
        members = numbers[numbers["label"] == label]
        described = "; ".join(
            f"{display(r.init)} ({r.seeds_agreeing}/{r.seeds} seeds; start loss {sig(r.median_start_loss)}, end "
            f"{sig(r.median_end_loss)}, validation accuracy {sig(r.median_val_acc)}"
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
