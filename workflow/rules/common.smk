# Helpers shared by every rule: config validation, the seed blocks, and input functions.
import json

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

from initlab.engine.initspec import custom_inits_json
from initlab.study import axes
from initlab.study.ablations import ablation_name, check_ablations
from initlab.study.blocks import seed_blocks
from initlab.study.configcheck import check_study, explain_validation_error
from initlab.study.configlimits import check_finite, check_sizes

min_version("9.19")

try:
    check_finite(config)  # before the schema: NaN passes its bounds (every comparison with NaN is false)
except ValueError as err:
    raise WorkflowError(str(err)) from None

try:
    validate(config, "../schemas/config.schema.yaml")
except WorkflowError as err:
    raise WorkflowError(explain_validation_error(err)) from None

try:
    check_study(config)
except ValueError as err:
    raise WorkflowError(str(err)) from None

try:
    check_ablations(config["ablations"])
except ValueError as err:
    raise WorkflowError(str(err)) from None

SEED_BLOCKS = seed_blocks(config["seeds"], config["seed_block_size"])
INITS = ",".join(config["inits"])
PROBE = config["probe"]
TRAINING = config["training"]
# The config's custom inits, as the JSON every probe and train job gets (--custom-inits).
CUSTOM_INITS = custom_inits_json(config["custom_inits"])


wildcard_constraints:
    activation="[a-z_]+",
    optimizer="[a-z_]+",
    depth=r"\d+",
    # Optional path segments of list-valued axes (empty when the config gives one value).
    lrdir=r"(/lr[0-9.e+-]+)?",
    widthdir=r"(/width\d+)?",
    seeds=r"\d+(-\d+)?(_\d+(-\d+)?)*",
    ablation=r"[A-Za-z0-9_.+-]+",


def probe_jobs(pattern):
    """``pattern`` for every probe job: activation x width x seed block."""
    return [
        pattern.format(seeds=block, **cell) for cell in axes.probe_cells(PROBE) for block in SEED_BLOCKS
    ]


def train_jobs(pattern, **fixed):
    """``pattern`` for every training job: activation x optimizer x lr x width x depth x seed block."""
    return [
        pattern.format(seeds=block, **cell, **fixed)
        for cell in axes.train_cells(TRAINING)
        for block in SEED_BLOCKS
    ]


#: Configured layer-swap ablations by job name (rule ``ablation``).
ABLATIONS = {ablation_name(entry): entry for entry in config["ablations"]}


def ablation_jobs(pattern):
    """``pattern`` for every ablation job: configured ablation x seed block."""
    return expand(pattern, ablation=list(ABLATIONS), seeds=SEED_BLOCKS)


def timing_files(wildcards=None):
    """Every compute job's timings file."""
    return (
        probe_jobs("results/timings/probe/{activation}{widthdir}/seeds_{seeds}.csv")
        + train_jobs("results/timings/train/{activation}/{optimizer}{lrdir}{widthdir}/depth{depth}/seeds_{seeds}.csv")
        + ["results/timings/lab_replay.csv"]
        + ablation_jobs("results/timings/ablation/{ablation}/seeds_{seeds}.csv")
    )


TRAIN_TABLE = "results/train/{activation}/{optimizer}{lrdir}{widthdir}/depth{depth}/{kind}_seeds_{seeds}.csv"
TABLE_INPUTS = {
    "signal_probe": probe_jobs("results/probe/{activation}{widthdir}/seeds_{seeds}.csv"),
    "training": train_jobs(TRAIN_TABLE, kind="training"),
    "curves": train_jobs(TRAIN_TABLE, kind="curves"),
    "ablation": ablation_jobs("results/ablation/{ablation}/seeds_{seeds}.csv"),
}
#: The ablation table, when any ablation is configured (the report reads it if present).
ABLATION_TABLE = ["results/tables/ablation.csv"] if ABLATIONS else []


def table_inputs(wildcards):
    """The per-job CSVs that make up one aggregated table."""
    return TABLE_INPUTS[wildcards.table]


def optimizer_lr(wildcards):
    """The learning rate the job's path names (the optimizer's only one when no ``lr`` segment)."""
    return axes.lookup_lr(TRAINING, wildcards.optimizer, wildcards.lrdir)


def train_width(wildcards):
    """The training width the job's path names (the only one when no ``width`` segment)."""
    return axes.lookup_width(TRAINING, wildcards.widthdir)


def probe_width(wildcards):
    """The probe width the job's path names (the only one when no ``width`` segment)."""
    return axes.lookup_width(PROBE, wildcards.widthdir)


def config_json(wildcards=None):
    """The validated config (defaults filled in), for the report's provenance section."""
    return json.dumps(config, sort_keys=True)


def check_job_sizes():
    """Refuse a config whose biggest probe or train job would exceed its rule's declared
    resources (called from the Snakefile once every rule is defined)."""
    declared = {
        name: {key: r.value for key, r in getattr(rules, name).rule.resources.items() if not r.is_evaluable()}
        for name in ("probe", "train")
    }
    try:
        check_sizes(config, declared)
    except ValueError as err:
        raise WorkflowError(str(err)) from None
