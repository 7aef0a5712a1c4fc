"""The lesson's questions, answered from the study's tables.

Every answer is a pure function of the tidy tables: it states its criterion
(thresholds are the modules' constants, each with the reason for its
value), the numbers behind it, and how many seeds agree. Nothing here knows
which init *should* win: the lesson's expected answers are what the tests
check against, and the tests also flip the data to prove the sentence follows.

The tables are produced by the workflow (``results/tables/*.csv``); this
package never recomputes the science, it only reads those observations.

What lives where:

- ``tables``: :class:`Tables`, loading and type-checking them, the display
  order of inits (:func:`init_order`) and :func:`closest`.
- ``criteria``: :class:`Answer`, :class:`Criterion`, :func:`first_match`, and
  the shared "not answerable" answer.
- ``text``: wording helpers for the sentences.
- ``probe``: Exercise 1, the signal probe's failure criteria (``initlab.engine.health``'s rules) and depths.
- ``runs``: the lesson's training cell and the run-failure criterion shared
  by the training answers.
- ``exercise2``: Exercise 2 (Tanh instead of ReLU, Xavier's standing).
- ``exercise3``: Exercise 3 (SGD instead of Adam, fragility).
- ``deeper``: the Next Probe (deeper nets, fragility).
- ``evidence``: the "Evidence to keep" record.
- ``lab``: lesson reproduction, every mismatch sized.
- ``claims``: the lesson's own claims (:data:`claims.CLAIMS`), each with its criterion and verdict.
- ``ablation``: the layer-swap ablation read: each layer's share of an A-vs-B gap.

This module re-exports the names the report, the figures and the tests use,
and holds :data:`ANSWERS`, the registry of report sections.
"""

from __future__ import annotations

from collections.abc import Callable

from initlab.engine.health import EXPLODED_STD, SATURATED_FRACTION, VANISHED_STD  # the probe's thresholds
from initlab.report.answers.criteria import Answer
from initlab.report.answers.deeper import depth_failure_rates, next_probe
from initlab.report.answers.evidence import WARNING_START_LOSS, Evidence, evidence_to_keep
from initlab.report.answers.exercise2 import EX2_BASELINE, EX2_CHANGED, EX2_INIT, exercise_2, with_cause, xavier_gaps
from initlab.report.answers.exercise3 import EX3_BASELINE, EX3_CHANGED, exercise_3
from initlab.report.answers.findings import exercise2_cause
from initlab.report.answers.lab import LAB2_VAL_EXAMPLES, lab_reproduction
from initlab.report.answers.probe import (
    EX1_CRITERION,
    EX1_FROM_DEPTH,
    EX1_TO_DEPTH,
    LESSON_PROBE_WIDTH,
    exercise_1,
    majority_depth,
    probe_failure_depths,
    probe_failure_summary,
    probe_last_layers,
)
from initlab.report.answers.runs import (
    LESSON_ACTIVATION,
    LESSON_OPTIMIZER,
    NEAR_CHANCE_ACCURACY,
    NO_IMPROVEMENT_RATIO,
    TRAINING_CELL,
    cell_text,
    select_runs,
    with_run_failure,
)
from initlab.report.answers.tables import INIT_ORDER, Tables, closest, init_order, load_tables, normalise_table

__all__ = [
    "ANSWERS",
    "Answer",
    "EX1_CRITERION",
    "EX1_FROM_DEPTH",
    "EX1_TO_DEPTH",
    "EX2_BASELINE",
    "EX2_CHANGED",
    "EX2_INIT",
    "EX3_BASELINE",
    "EX3_CHANGED",
    "EXPLODED_STD",
    "Evidence",
    "INIT_ORDER",
    "LAB2_VAL_EXAMPLES",
    "LESSON_ACTIVATION",
    "LESSON_OPTIMIZER",
    "LESSON_PROBE_WIDTH",
    "NEAR_CHANCE_ACCURACY",
    "NO_IMPROVEMENT_RATIO",
    "SATURATED_FRACTION",
    "TRAINING_CELL",
    "Tables",
    "VANISHED_STD",
    "WARNING_START_LOSS",
    "cell_text",
    "closest",
    "depth_failure_rates",
    "evidence_to_keep",
    "exercise_1",
    "exercise_2",
    "exercise_3",
    "init_order",
    "lab_reproduction",
    "load_tables",
    "majority_depth",
    "next_probe",
    "normalise_table",
    "probe_failure_depths",
    "probe_failure_summary",
    "probe_last_layers",
    "select_runs",
    "with_run_failure",
    "xavier_gaps",
]

#: Section id of the report -> the answer computed for it.
ANSWERS: dict[str, Callable[[Tables], Answer]] = {
    "exercise-1": lambda t: exercise_1(t.signal_probe, t.theory),
    "exercise-2": lambda t: with_cause(exercise_2(t.training), exercise2_cause(t)),
    "exercise-3": lambda t: exercise_3(t.training),
    "next-probe": lambda t: next_probe(t.training),
}
