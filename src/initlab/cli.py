"""The ``initlab`` command line: one sub-command per workflow step, each a thin shell over the library.

The workflow's compute jobs get their work whole: ``initlab job --job JSON`` receives one job of
``initlab.study.axes`` (its cell, inits, seed block and custom inits) and ``cmd_job`` computes,
writes, self-checks and times it the same way for every kind. The user-facing commands
(``compare``, ``inspect``, ``verify``, ``provenance``, ``report``, ``figures``, ``lab1``, ``lab2``) take flags.

Start-up is kept lean on purpose: this module imports only the standard library, and each
sub-command imports what it needs (torch for compute, pandas for aggregation, seaborn for
figures), so a job pays for its own imports and nothing else. ``--threads`` (default 1) sets
torch's thread count: on a small shared machine the default OpenMP threading makes a 0.2 s
training run take up to 15 s.

Compute sub-commands can write a ``--timings`` file: CPU seconds spent starting up (interpreter
and imports) and CPU seconds of real work, plus the work's wall seconds and the job's start and
end. CPU time, because jobs share cores: with more jobs than cores a job's wall time counts its
neighbours' work too. Kept apart from the tables because timings are not reproducible.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

_STARTED = time.time()


def _set_threads(threads: int) -> None:
    """Torch's thread count, and glibc told to keep freed memory (``initlab.engine.allocator``)."""
    import torch

    from initlab.engine.allocator import keep_freed_memory

    torch.set_num_threads(threads)
    keep_freed_memory()


def _write_timing(path: str | None, job: str, import_cpu: float, work_cpu: float, work_wall: float) -> None:
    if not path:
        return
    from initlab.study.tables import TIMINGS, write_table

    row = {
        "job": job,
        "import_seconds": import_cpu,
        "work_seconds": work_cpu,
        "work_wall_seconds": work_wall,
        # Unix times to the millisecond (as text: the tables' 9-digit floats would round them to ~100 s).
        "started_at": f"{_STARTED:.3f}",
        "finished_at": f"{time.time():.3f}",
    }
    write_table(path, TIMINGS, [row])


def _timed(args: argparse.Namespace, job: str, work: Callable[[], None]) -> None:
    """Set threads, run ``work``, and record start-up and work seconds."""
    _set_threads(args.threads)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    work()
    _write_timing(args.timings, job, cpu0, time.process_time() - cpu0, time.perf_counter() - wall0)


def cmd_lab(args: argparse.Namespace) -> None:
    from initlab.engine.lesson import LABS

    _set_threads(args.threads)
    sys.stdout.write(LABS[args.command]())


def cmd_lab_replay(args: argparse.Namespace) -> None:
    def work() -> None:
        from initlab.engine.lesson import LABS, reproduction_rows
        from initlab.study.tables import write_table

        rows = []
        for lab, replay in LABS.items():
            text = replay()
            (Path(args.text_dir) / f"{lab}.txt").write_text(text)
            rows.extend(reproduction_rows(lab, text))
        write_table(args.out, "lab_reproduction", rows)

    Path(args.text_dir).mkdir(parents=True, exist_ok=True)
    _timed(args, "lab_replay", work)


def cmd_dataset(args: argparse.Namespace) -> None:
    import json

    from initlab.engine.data import MoonsSpec, make_moons_split, save_split

    save_split(make_moons_split(MoonsSpec(**json.loads(args.dataset))), args.out)


def cmd_model_dataset(args: argparse.Namespace) -> None:
    """A configured model's data set (``datasets.NAME``), checked, to an .npz its training jobs read."""
    import json

    from initlab.engine.data import save_split
    from initlab.engine.datasets import make

    save_split(make(args.name, json.loads(args.definition)), args.out)


def _compute_probe(job, split) -> dict[str, list]:
    from initlab.engine.probe import probe_grid

    cell = job.cell
    return {
        "signal_probe": probe_grid(list(job.seeds), cell.activation, list(job.inits), list(cell.depths), cell.width)
    }


def _compute_train(job, split) -> dict[str, list]:
    from initlab.engine.train import train_cell

    rows, curves = train_cell(split, job.cell, job.inits, job.seeds)
    return {"training": rows, "curves": curves}


def _compute_ablation(job, split) -> dict[str, list]:
    from initlab.engine.ablation import ablate_cell

    return {"ablation": ablate_cell(split, job.cell, job.seeds)}


def _compute_model(job, split) -> dict[str, list]:
    from initlab.engine.modeltrain import train_model_cell

    rows, curves = train_model_cell(split, job.cell, job.inits, job.seeds)
    return {"models": rows, "model_curves": curves}


#: Job kind (``initlab.study.axes.KINDS``) -> the engine call that computes it: rows per table.
COMPUTE: dict[str, Callable] = {
    "probe": _compute_probe,
    "train": _compute_train,
    "ablation": _compute_ablation,
    "model": _compute_model,
}


def _outputs(pairs: list[str], wanted: list[str]) -> dict[str, str]:
    """``--out TABLE=PATH`` flags as a mapping, exactly one per table in ``wanted``."""
    outputs = dict(pair.partition("=")[::2] for pair in pairs)
    if sorted(outputs) != sorted(wanted) or not all(outputs.values()):
        raise ValueError(f"--out must name each of {', '.join(wanted)} once as TABLE=PATH, got {pairs}")
    return outputs


def cmd_job(args: argparse.Namespace) -> None:
    """One compute job of the study (``initlab.study.axes.Job``): compute, write, self-check, time it."""
    from initlab.study.axes import KINDS, Job
    from initlab.study.tables import tables_of_kind

    job, custom = Job.from_json(args.job)
    outputs = _outputs(args.out, [t.name for t in tables_of_kind(job.kind)])
    if KINDS[job.kind].needs_data and not args.data:
        raise ValueError(f"a {job.kind} job needs --data (the .npz written by 'initlab dataset')")

    def work() -> None:
        from initlab.engine.inits import custom_inits
        from initlab.study.completeness import check_job_output
        from initlab.study.expected import job_keys
        from initlab.study.tables import write_table

        split = None
        if args.data:
            from initlab.engine.data import load_split

            split = load_split(args.data)
        with custom_inits(custom):
            tables = COMPUTE[job.kind](job, split)
        for name, rows in tables.items():
            write_table(outputs[name], name, rows)
        # Before exiting: each file holds exactly the rows this job promises (initlab.study.completeness).
        for name in tables:
            check_job_output(outputs[name], name, job_keys(job, name))

    _timed(args, job.label, work)


def _theory(args: argparse.Namespace, name: str, rows_of: Callable[[dict], list]) -> None:
    """A theory job: the grid of ``--grid`` (``initlab.study.axes.theory_grid``) to table ``name``."""
    import json

    grid = json.loads(args.grid)

    def work() -> None:
        from initlab.engine.inits import custom_inits
        from initlab.study.tables import write_table

        with custom_inits(grid["custom_inits"]):
            write_table(args.out, name, rows_of(grid))

    _timed(args, name, work)


def cmd_theory(args: argparse.Namespace) -> None:
    def rows(grid: dict) -> list:
        from initlab.study.theory import theory_grid

        return [r for w in grid["widths"] for r in theory_grid(grid["activations"], grid["inits"], grid["depths"], w)]

    _theory(args, "theory", rows)


def cmd_theory_start(args: argparse.Namespace) -> None:
    def rows(grid: dict) -> list:
        from initlab.engine.data import load_split
        from initlab.study.theory import moon_start_grid

        x_train = load_split(args.data).x_train
        return [
            r
            for w in grid["widths"]
            for r in moon_start_grid(x_train, grid["activations"], grid["inits"], grid["depths"], w)
        ]

    _theory(args, "theory_start", rows)


def cmd_aggregate(args: argparse.Namespace) -> None:
    from initlab.study.aggregate import aggregate

    config = None
    if args.config:
        import json

        config = json.loads(Path(args.config).read_text(encoding="utf-8"))
    aggregate(args.table, args.inputs, args.out, config=config)


def cmd_manifest(args: argparse.Namespace) -> None:
    from initlab.study.manifest import write_manifest

    manifest = write_manifest(args.tables, args.config, args.out)
    rows = ", ".join(f"{name} {entry['rows']}/{entry['rows_expected']}" for name, entry in manifest["tables"].items())
    print(f"initlab manifest: rows found/expected: {rows}")


def cmd_provenance(args: argparse.Namespace) -> None:
    """The run's record (``initlab.study.provenance``), its fingerprints checked against the code now."""
    import json

    from initlab.study import fingerprint
    from initlab.study.provenance import write_provenance

    given = json.loads(args.fingerprints)
    now = fingerprint.fingerprints(list(given), templates_dir=args.templates or fingerprint.templates_dir())
    moved = [rule for rule, value in given.items() if now[rule].value != value]
    if moved:
        raise ValueError(f"the code of rule(s) {', '.join(moved)} changed while the workflow ran; run snakemake again")
    write_provenance(
        args.out,
        config_path=args.config,
        fingerprints={rule: p.as_dict() for rule, p in now.items()},
        threads=json.loads(args.threads),
        timings_path=args.timings,
    )


def cmd_verify(args: argparse.Namespace) -> int:
    from initlab.study.manifest import verify

    differences = verify(args.results)
    for line in differences:
        print(f"initlab verify: {line}", file=sys.stderr)
    if len(differences) > 1:
        print(
            f"initlab verify: {args.results} does NOT match its manifest, config and code ({len(differences)} "
            "difference(s))",
            file=sys.stderr,
        )
    if differences:
        return 1
    print(
        f"initlab verify: {args.results} matches its manifest, config and the installed code: every table "
        "complete, every byte as recorded, every table made by this code"
    )
    return 0


def cmd_figures(args: argparse.Namespace) -> None:
    from initlab.report.render import figures_command

    figures_command(args.tables, args.out, args.threads)


def cmd_report(args: argparse.Namespace) -> None:
    from initlab.report.render import report_command

    out = report_command(
        args.tables, args.figures, args.config, args.out, args.timings, args.templates, args.provenance
    )
    # The workflow's last step: say where the report is (stdout, so the run's terminal shows it).
    print(f"initlab: the report is at {Path(out).resolve()}")


def cmd_compare(args: argparse.Namespace) -> int:
    """``initlab compare A B``: 0 every verdict the same, 1 a verdict changed, 2 unreadable input."""
    from initlab.report.compare import EXIT_UNREADABLE, UnreadableInput, compare, exit_status
    from initlab.report.compare.output import render_html, terminal_summary, write_json

    try:
        comparison = compare(args.a, args.b)
    except UnreadableInput as error:
        print(f"initlab compare: unreadable input: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    sys.stdout.write(terminal_summary(comparison, args.require_identical))
    if args.html is not None:
        out = render_html(comparison, args.html, args.require_identical, args.templates)
        print(f"initlab compare: the page is at {Path(out).resolve()}")
    if args.json is not None:
        out = write_json(comparison, args.json, args.require_identical)
        print(f"initlab compare: the per-cell results are at {Path(out).resolve()}")
    return exit_status(comparison, args.require_identical)


def cmd_inspect(args: argparse.Namespace) -> None:
    """``initlab inspect FILE.py:FACTORY``: the signal probe and init check on a user's model."""
    from initlab.engine.inspect import InspectError, inspect
    from initlab.engine.usermodel import build_model, load_inputs, parse_shape, random_inputs
    from initlab.report.inspect_text import format_terminal, write_json, write_layers_csv

    _set_threads(args.threads)
    if (args.input_shape is None) == (args.inputs is None):
        raise InspectError("give exactly one of --input-shape (e.g. 64,3,32,32) or --inputs FILE.pt")
    inputs = (
        random_inputs(parse_shape(args.input_shape), args.seed) if args.inputs is None else load_inputs(args.inputs)
    )
    model = build_model(args.model, args.seed)
    started = time.perf_counter()
    inspection = inspect(model, inputs, seed=args.seed)
    source = f"--inputs {args.inputs}" if args.inputs else f"N(0, 1) inputs of shape {args.input_shape}"
    title = f"initlab inspect {args.model}: {source}, seed {args.seed}"
    print(format_terminal(inspection, title, layers=args.layers), end="")
    if args.csv:
        write_layers_csv(inspection, args.csv)
    if args.json:
        write_json(inspection, args.json, {"model": args.model, "inputs": source, "seed": args.seed})
    if args.html:
        from initlab.report.inspect_page import write_page

        write_page(inspection, args.html, title)
    print(f"inspected in {time.perf_counter() - started:.2f} s")


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")


def _job_parser(sub: argparse._SubParsersAction, name: str, func: Callable, help: str) -> argparse.ArgumentParser:
    """A compute step's sub-command: its own flags come after; every step takes threads and timings."""
    p = sub.add_parser(name, help=help)
    p.set_defaults(func=func)
    _add_threads(p)
    p.add_argument("--timings", help="write this job's import and work seconds to this CSV")
    return p


def _add_job_commands(sub: argparse._SubParsersAction) -> None:
    """The workflow's steps: each gets its work from its rule, the compute jobs whole as JSON."""
    p = _job_parser(sub, "lab-replay", cmd_lab_replay, "replay both labs; write the lesson-vs-measured table")
    p.add_argument("--out", required=True, help="lab_reproduction CSV")
    p.add_argument("--text-dir", required=True, help="folder for the printed lab tables")

    p = sub.add_parser("dataset", help="make the make_moons split once, to an .npz file")
    p.add_argument("--dataset", default="{}", help="JSON of the config's dataset section (default: the lesson's)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("model-dataset", help="make a configured model's data set once, to an .npz file")
    p.add_argument("--name", required=True, help="the data set's name in the config's datasets section")
    p.add_argument("--definition", required=True, help="JSON of its entry: {builtin: ..., options} or {file: PATH}")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_model_dataset)

    p = _job_parser(
        sub, "job", cmd_job, "one compute job of the study (probe, train, ablation or model), given whole as JSON"
    )
    p.add_argument("--job", required=True, help="the job as initlab.study.axes.Job.to_json writes it")
    p.add_argument(
        "--data", help=".npz written by 'initlab dataset' (train, ablation) or 'initlab model-dataset' (model jobs)"
    )
    p.add_argument(
        "--out",
        action="append",
        default=[],
        metavar="TABLE=PATH",
        help="where to write each table the job makes, e.g. training=results/...csv",
    )

    for name, func, what, needs_data in (
        ("theory", cmd_theory, "mean-field predictions for every probe layer (theory.csv)", False),
        ("theory-start", cmd_theory_start, "MoonMLP's predicted logit std and start loss (theory_start.csv)", True),
    ):
        p = _job_parser(sub, name, func, what)
        p.add_argument("--grid", required=True, help="JSON of initlab.study.axes.theory_grid")
        if needs_data:
            p.add_argument("--data", required=True, help=".npz written by 'initlab dataset'")
        p.add_argument("--out", required=True)


def build_parser() -> argparse.ArgumentParser:
    from initlab import __version__

    parser = argparse.ArgumentParser(prog="initlab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"initlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    for lab in ("lab1", "lab2"):
        p = sub.add_parser(lab, help=f"print the lesson's {lab} table, computed by the library")
        _add_threads(p)
        p.set_defaults(func=cmd_lab)

    _add_job_commands(sub)

    p = sub.add_parser("aggregate", help="concatenate per-job CSVs into one sorted tidy table")
    p.add_argument("--table", required=True, help="signal_probe, training, curves, ablation or timings")
    p.add_argument("--out", required=True)
    p.add_argument(
        "--config", help="the study's validated config (results/config.json): check every row it promises is there once"
    )
    p.add_argument("inputs", nargs="+")
    p.set_defaults(func=cmd_aggregate)

    p = sub.add_parser(
        "manifest", help="check every table against the config; write MANIFEST.json (rows, columns, SHA-256)"
    )
    p.add_argument("--tables", required=True, type=Path, help="directory of the study's CSV tables")
    p.add_argument("--config", required=True, type=Path, help="the validated config (results/config.json)")
    p.add_argument("--out", required=True, type=Path, help="the manifest to write (results/tables/MANIFEST.json)")
    p.set_defaults(func=cmd_manifest)

    p = sub.add_parser("provenance", help="write the run's record: commit, fingerprints, versions, machine, config")
    p.add_argument("--config", required=True, type=Path, help="the validated config (results/config.json)")
    p.add_argument("--fingerprints", required=True, help="JSON: each rule's fingerprint its jobs ran with")
    p.add_argument("--threads", default="{}", help="JSON: each rule's threads")
    p.add_argument("--timings", type=Path, default=None, help="results/timings.csv")
    p.add_argument(
        "--templates", type=Path, default=None, help="the report's template folder (default: the one the report finds)"
    )
    p.add_argument("--out", required=True, type=Path, help="the record to write (results/provenance.json)")
    p.set_defaults(func=cmd_provenance)

    p = sub.add_parser(
        "verify", help="re-check a results folder against its manifest, config and the installed code (exit 1 if not)"
    )
    p.add_argument("results", type=Path, help="the results folder (holds config.json and tables/MANIFEST.json)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("figures", help="draw the report's figures from the tables")
    p.add_argument("--tables", required=True, type=Path, help="directory of the study's CSV tables")
    p.add_argument("--out", required=True, type=Path, help="directory to write the PNG files into")
    p.add_argument("--threads", type=int, default=1, help="figures drawn at a time, each in its own process")
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("report", help="render the self-contained HTML report")
    p.add_argument("--tables", required=True, type=Path, help="directory of the study's CSV tables")
    p.add_argument("--figures", required=True, type=Path, help="directory written by 'initlab figures'")
    p.add_argument("--config", required=True, type=Path, help="the study's config, YAML or JSON (Provenance)")
    p.add_argument("--timings", type=Path, default=None, help="timings.csv (default: the one in --tables, if any)")
    p.add_argument("--templates", type=Path, default=None, help="template folder (default: report_templates/)")
    p.add_argument(
        "--provenance",
        type=Path,
        default=None,
        help="the run's provenance.json (default: the one beside --tables, if any)",
    )
    p.add_argument("--out", required=True, type=Path, help="HTML file to write")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("compare", help="compare two result sets: tables, verdicts, seeds, provenance")
    p.add_argument("a", type=Path, help="result set A: a results/ folder or a folder of tables")
    p.add_argument("b", type=Path, help="result set B: the same")
    p.add_argument("--html", type=Path, default=None, help="also write the comparison as an HTML page")
    p.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write every metric's per-cell result (means, difference, interval, p, called "
        "different after FDR control) as JSON",
    )
    p.add_argument(
        "--require-identical",
        action="store_true",
        help="exit 1 also when a table is not byte-identical (a rerun elsewhere, e.g. on a cluster)",
    )
    p.add_argument("--templates", type=Path, default=None, help="template folder (default: report_templates/)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("inspect", help="signal probe, verdicts and init check on your own PyTorch model")
    p.add_argument("model", help="FILE.py:FACTORY, a function returning the torch.nn.Module")
    p.add_argument("--input-shape", help="random N(0, 1) inputs of this shape, e.g. 64,3,32,32")
    p.add_argument("--inputs", help="inputs saved with torch.save: a tensor or a list of tensors")
    p.add_argument("--seed", type=int, default=0, help="seeds the model's init, the inputs and the probe loss")
    p.add_argument("--layers", action="store_true", help="print the per-layer table before the verdicts")
    p.add_argument("--csv", help="write the per-layer table to this CSV file")
    p.add_argument("--json", help="write everything (layers, verdicts, init checks) to this JSON file")
    p.add_argument("--html", help="write a self-contained HTML page with the per-layer figures")
    _add_threads(p)
    p.set_defaults(func=cmd_inspect)

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except ValueError as err:
        print(f"initlab {args.command}: error: {err}", file=sys.stderr)
        return 2
    return code or 0
