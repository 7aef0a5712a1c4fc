# Helpers shared by every rule: config validation, the study's jobs, and input functions.
import json

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

from initlab.study import axes
from initlab.study.ablations import check_ablations
from initlab.study.configcheck import check_study, explain_validation_error
from initlab.study.configlimits import check_finite, check_sizes
from initlab.study.tables import tables_of_kind
from initlab.study.expected import made_tables
from initlab.study.fingerprint import fingerprints, templates_dir
from initlab.study.models import dataset_path, factory_file, resolve_paths

min_version("9.19")

try:
    check_finite(config)  # before the schema: NaN passes its bounds (every comparison with NaN is false)
except ValueError as err:
    raise WorkflowError(str(err)) from None

try:
    validate(config, "../schemas/config.schema.yaml")
except WorkflowError as err:
    raise WorkflowError(explain_validation_error(err)) from None

#: The config with its models' factory files and data set files found (initlab.study.models):
#: in the working directory, else in the repository (the shipped examples/).
STUDY = resolve_paths(config, workflow.basedir)

try:
    check_study(STUDY)
    check_ablations(config["ablations"])
except ValueError as err:
    raise WorkflowError(str(err)) from None

#: Each rule's fingerprint (initlab.study.fingerprint), computed once per run: the library code the
#: `initlab` command imports for it, the package versions that code imports, and for the report its
#: templates. Every rule carries its own as the param `code`, so Snakemake's params trigger reruns
#: exactly the jobs whose code changed, and everything after them (`snakemake --list-changes params`).
CODE = {rule: f.value for rule, f in fingerprints(templates_dir=templates_dir()).items()}

#: Every compute job of the config (initlab.study.axes): the one grid every rule walks.
JOBS = axes.jobs(STUDY)
_JOB_BY_FILE = {(job.kind, job.path, job.seeds_name): job for job in JOBS}
#: The config's custom inits: every job gets their definitions with its cell.
CUSTOM_INITS = config["custom_inits"]


wildcard_constraints:
    # A job's cell folder (initlab.study.axes: activation, optimizer, lr/width segments, depth,
    # or an ablation's name) and its seed block.
    cell=r"[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*",
    seeds=r"\d+(-\d+)?(_\d+(-\d+)?)*",


def job_of(kind, wildcards):
    """The configured job of ``kind`` whose files ``wildcards`` name."""
    try:
        return _JOB_BY_FILE[kind, wildcards.cell, wildcards.seeds]
    except KeyError:
        raise WorkflowError(f"no {kind} job {wildcards.cell} with seeds {wildcards.seeds} in this config") from None


def job_json(kind):
    """Input function: the job whole, as JSON, for its compute command (``initlab job --job``)."""
    return lambda wildcards: job_of(kind, wildcards).to_json(CUSTOM_INITS)


def job_outputs(kind):
    """A compute rule's outputs: each table its kind writes, and its timings."""
    tables = {t.name: axes.output_pattern(kind, t.name) for t in tables_of_kind(kind)}
    return tables | {"timings": axes.side_pattern(kind, "timings")}


def out_flags(wildcards, output):
    """Params function: the ``--out TABLE=PATH`` flags of a compute rule, one per table it writes."""
    return " ".join(f"--out {name}={path}" for name, path in output.items() if name != "timings")


def job_log(kind):
    return axes.side_pattern(kind, "logs", ".log")


def timing_files(wildcards=None):
    """Every compute job's timings file."""
    return [job.side_file("timings") for job in JOBS] + ["results/timings/lab_replay.csv"]


#: Every table the config makes (the ablation table only with ablations configured).
MADE_TABLES = made_tables(config)
#: Per table the config's jobs make piecewise, the per-job CSVs that make it up.
TABLE_INPUTS = {t.name: [job.file(t.name) for job in JOBS if job.kind == t.kind] for t in MADE_TABLES if t.kind}
JOB_TABLES = list(TABLE_INPUTS)


def table_inputs(wildcards):
    """The per-job CSVs that make up one aggregated table."""
    return TABLE_INPUTS[wildcards.table]


def config_json(wildcards=None):
    """The validated config (defaults filled in), for the report's provenance section."""
    return json.dumps(config, sort_keys=True)


def rule_threads(wildcards=None):
    """Each fingerprinted rule's declared threads, as JSON, for the run's record."""
    return json.dumps({name: getattr(rules, name).rule.resources["_cores"].value for name in CODE}, sort_keys=True)


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


# Configured models (workflow/rules/models.smk): their data sets and inputs.


def model_dataset_source(wildcards):
    """A file data set's .npz (a change reruns its models), nothing for a built-in."""
    entry = STUDY.get("datasets", {}).get(wildcards.dataset, {})
    return [entry["file"]] if "file" in entry else []


def model_dataset_definition(wildcards):
    return json.dumps(STUDY["datasets"][wildcards.dataset], sort_keys=True)


def model_job_data(wildcards):
    return dataset_path(job_of("model", wildcards).cell.dataset)


def model_job_factory(wildcards):
    """The factory's file: editing the model reruns its jobs."""
    return factory_file(job_of("model", wildcards).cell.factory)
