"""The ``initlab`` command line: one sub-command per workflow step, each a thin shell over the library.

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
from pathlib import Path
from typing import Callable

from initlab.study.blocks import format_seeds, parse_seeds  # pure Python: no cost at start-up

_STARTED = time.time()


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def _names(text: str) -> list[str]:
    return [v for v in text.split(",") if v]


def _seeds(text: str) -> list[int]:
    return parse_seeds(text)


def _set_threads(threads: int) -> None:
    """Torch's thread count, and glibc told to keep freed memory (``initlab.engine.allocator``)."""
    import torch

    from initlab.engine.allocator import keep_freed_memory

    torch.set_num_threads(threads)
    keep_freed_memory()


def _write_timing(path: str | None, job: str, import_cpu: float, work_cpu: float, work_wall: float) -> None:
    if not path:
        return
    from initlab.study.tables import TIMING_COLUMNS, write_csv

    row = {
        "job": job,
        "import_seconds": import_cpu,
        "work_seconds": work_cpu,
        "work_wall_seconds": work_wall,
        # Unix times to the millisecond (as text: the tables' 9-digit floats would round them to ~100 s).
        "started_at": f"{_STARTED:.3f}",
        "finished_at": f"{time.time():.3f}",
    }
    write_csv(path, TIMING_COLUMNS, [row])


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
        from initlab.study.tables import LAB_COLUMNS, write_csv

        rows = []
        for lab, replay in LABS.items():
            text = replay()
            (Path(args.text_dir) / f"{lab}.txt").write_text(text)
            rows.extend(reproduction_rows(lab, text))
        write_csv(args.out, LAB_COLUMNS, rows)

    Path(args.text_dir).mkdir(parents=True, exist_ok=True)
    _timed(args, "lab_replay", work)


def cmd_dataset(args: argparse.Namespace) -> None:
    from initlab.engine.data import MoonsSpec, make_moons_split, save_split

    spec = MoonsSpec(args.n_samples, args.noise, args.random_state, args.test_size)
    save_split(make_moons_split(spec), args.out)


def cmd_probe(args: argparse.Namespace) -> None:
    def work() -> None:
        from initlab.engine.inits import custom_inits
        from initlab.engine.probe import probe_grid
        from initlab.study.tables import PROBE_COLUMNS, write_csv

        with custom_inits(args.custom_inits):
            rows = probe_grid(args.seeds, args.activation, args.inits, args.depths, args.width)
        write_csv(args.out, PROBE_COLUMNS, rows)
        # Before exiting: the file holds exactly the rows this job promises (initlab.study.completeness).
        from initlab.study.completeness import check_job_output
        from initlab.study.expected import probe_job_keys

        check_job_output(
            args.out, "signal_probe", probe_job_keys(args.seeds, args.activation, args.inits, args.depths, args.width)
        )

    _timed(args, f"probe/{args.activation}/{args.width}/{format_seeds(args.seeds)}", work)


def _cell_keys_args(args: argparse.Namespace) -> tuple:
    """A training cell's arguments to ``initlab.study.expected``'s ``*_job_keys`` (seeds first)."""
    return (args.seeds, args.activation, args.optimizer, args.lr, args.depth, args.width, args.steps)


def cmd_train(args: argparse.Namespace) -> None:
    from initlab.engine.train import TrainSpec

    spec = TrainSpec(args.depth, args.width, args.activation, args.optimizer, args.lr, args.steps, args.curve_stride)

    def work() -> None:
        from initlab.engine.data import load_split
        from initlab.engine.inits import custom_inits
        from initlab.engine.train import train_cell
        from initlab.study.tables import CURVE_COLUMNS, TRAINING_COLUMNS, write_csv

        with custom_inits(args.custom_inits):
            rows, curves = train_cell(load_split(args.data), spec, args.inits, args.seeds)
        write_csv(args.out, TRAINING_COLUMNS, rows)
        write_csv(args.curves, CURVE_COLUMNS, curves)
        # Before exiting: both files hold exactly the rows this job promises (initlab.study.completeness).
        from initlab.study.completeness import check_job_output
        from initlab.study.expected import curve_job_keys, training_job_keys

        cell = _cell_keys_args(args)
        check_job_output(args.out, "training", training_job_keys(*cell, args.inits))
        check_job_output(args.curves, "curves", curve_job_keys(*cell, args.curve_stride, args.inits))

    # The label names every job axis: learning rate and width are axes too (config lists).
    label = f"train/{args.activation}/{args.optimizer}/lr{args.lr:g}/width{args.width}/{args.depth}/{format_seeds(args.seeds)}"
    _timed(args, label, work)


def cmd_ablate(args: argparse.Namespace) -> None:
    from initlab.engine.train import TrainSpec

    spec = TrainSpec(args.depth, args.width, args.activation, args.optimizer, args.lr, args.steps)

    def work() -> None:
        from initlab.engine.ablation import ablate_cell
        from initlab.engine.data import load_split
        from initlab.engine.inits import custom_inits
        from initlab.study.tables import ABLATION_COLUMNS, write_csv

        with custom_inits(args.custom_inits):
            rows = ablate_cell(load_split(args.data), spec, args.init_a, args.init_b, args.seeds)
        write_csv(args.out, ABLATION_COLUMNS, rows)
        # Before exiting: the file holds exactly the rows this job promises (initlab.study.completeness).
        from initlab.study.completeness import check_job_output
        from initlab.study.expected import ablation_job_keys

        cell = _cell_keys_args(args)
        check_job_output(args.out, "ablation", ablation_job_keys(*cell, args.init_a, args.init_b))

    job = f"ablation/{args.activation}/{args.optimizer}/{args.depth}/{args.init_a}-{args.init_b}/{format_seeds(args.seeds)}"
    _timed(args, job, work)


def cmd_theory(args: argparse.Namespace) -> None:
    def work() -> None:
        from initlab.study.tables import THEORY_COLUMNS, write_csv
        from initlab.study.theory import theory_grid

        from initlab.engine.inits import custom_inits

        with custom_inits(args.custom_inits):
            rows = [r for w in args.width for r in theory_grid(args.activations, args.inits, args.depths, w)]
        write_csv(args.out, THEORY_COLUMNS, rows)

    _timed(args, "theory", work)


def cmd_theory_start(args: argparse.Namespace) -> None:
    def work() -> None:
        from initlab.engine.data import load_split
        from initlab.study.tables import THEORY_START_COLUMNS, write_csv
        from initlab.study.theory import moon_start_grid

        from initlab.engine.inits import custom_inits

        x_train = load_split(args.data).x_train
        with custom_inits(args.custom_inits):
            rows = [r for w in args.width for r in moon_start_grid(x_train, args.activations, args.inits, args.depths, w)]
        write_csv(args.out, THEORY_START_COLUMNS, rows)

    _timed(args, "theory_start", work)


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


def cmd_verify(args: argparse.Namespace) -> int:
    from initlab.study.manifest import verify

    differences = verify(args.results)
    for line in differences:
        print(f"initlab verify: {line}", file=sys.stderr)
    if differences:
        print(f"initlab verify: {args.results} does NOT match its manifest and config ({len(differences)} difference(s))",
              file=sys.stderr)
        return 1
    print(f"initlab verify: {args.results} matches its manifest and config: every table complete, every byte as recorded")
    return 0


def cmd_figures(args: argparse.Namespace) -> None:
    from initlab.report.render import figures_command

    figures_command(args.tables, args.out, args.threads)


def cmd_report(args: argparse.Namespace) -> None:
    from initlab.report.render import report_command

    out = report_command(args.tables, args.figures, args.config, args.out, args.timings, args.templates)
    # The workflow's last step: say where the report is (stdout, so the run's terminal shows it).
    print(f"initlab: the report is at {Path(out).resolve()}")


def cmd_compare(args: argparse.Namespace) -> int:
    """``initlab compare A B``: 0 every verdict the same, 1 a verdict changed, 2 unreadable input."""
    from initlab.report.compare import EXIT_UNREADABLE, UnreadableInput, compare, exit_status
    from initlab.report.compare.output import render_html, terminal_summary

    try:
        comparison = compare(args.a, args.b)
    except UnreadableInput as error:
        print(f"initlab compare: unreadable input: {error}", file=sys.stderr)
        return EXIT_UNREADABLE
    sys.stdout.write(terminal_summary(comparison, args.require_identical))
    if args.html is not None:
        out = render_html(comparison, args.html, args.require_identical, args.templates)
        print(f"initlab compare: the page is at {Path(out).resolve()}")
    return exit_status(comparison, args.require_identical)


def cmd_inspect(args: argparse.Namespace) -> None:
    """``initlab inspect FILE.py:FACTORY``: the signal probe and init check on a user's model."""
    from initlab.engine.inspect import InspectError, inspect
    from initlab.engine.usermodel import build_model, load_inputs, parse_shape, random_inputs
    from initlab.report.inspect_text import format_terminal, write_json, write_layers_csv

    _set_threads(args.threads)
    if (args.input_shape is None) == (args.inputs is None):
        raise InspectError("give exactly one of --input-shape (e.g. 64,3,32,32) or --inputs FILE.pt")
    inputs = random_inputs(parse_shape(args.input_shape), args.seed) if args.inputs is None else load_inputs(args.inputs)
    model = build_model(args.model, args.seed)
    started = time.perf_counter()
    inspection = inspect(model, inputs, seed=args.seed)
    source = f"--inputs {args.inputs}" if args.inputs else f"N(0, 1) inputs of shape {args.input_shape}"
    title = f"initlab inspect {args.model}: {source}, seed {args.seed}"
    print(format_terminal(inspection, title), end="")
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


def _add_custom_inits(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--custom-inits",
        default="{}",
        help="JSON of the config's custom_inits ({name: {kind: ..., ...}}): makes those names valid --inits",
    )


def _add_timings(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timings", help="write this job's import and work seconds to this CSV")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="initlab", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    for lab in ("lab1", "lab2"):
        p = sub.add_parser(lab, help=f"print the lesson's {lab} table, computed by the library")
        _add_threads(p)
        p.set_defaults(func=cmd_lab)

    p = sub.add_parser("lab-replay", help="replay both labs; write the lesson-vs-measured table")
    p.add_argument("--out", required=True, help="lab_reproduction CSV")
    p.add_argument("--text-dir", required=True, help="folder for the printed lab tables")
    _add_threads(p)
    _add_timings(p)
    p.set_defaults(func=cmd_lab_replay)

    p = sub.add_parser("dataset", help="make the make_moons split once, to an .npz file")
    p.add_argument("--n-samples", type=int, default=600)
    p.add_argument("--noise", type=float, default=0.22)
    p.add_argument("--random-state", type=int, default=9)
    p.add_argument("--test-size", type=float, default=0.25)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("probe", help="signal probe for seeds x inits x depths of one activation")
    p.add_argument("--activation", required=True)
    p.add_argument("--inits", type=_names, required=True, help="comma-separated init names")
    p.add_argument("--depths", type=_ints, required=True, help="comma-separated depths")
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--seeds", type=_seeds, required=True, help="seed runs, e.g. 0-9 or 3_7_40-41")
    p.add_argument("--out", required=True)
    _add_custom_inits(p)
    _add_threads(p)
    _add_timings(p)
    p.set_defaults(func=cmd_probe)

    def add_training_cell(p: argparse.ArgumentParser) -> None:
        """The arguments of one training cell (MoonMLP shape, optimizer, steps), shared by train and ablate."""
        p.add_argument("--data", required=True, help=".npz written by 'initlab dataset'")
        p.add_argument("--depth", type=int, required=True)
        p.add_argument("--width", type=int, required=True)
        p.add_argument("--activation", required=True)
        p.add_argument("--optimizer", required=True)
        p.add_argument("--lr", type=float, required=True)
        p.add_argument("--steps", type=int, required=True)

    p = sub.add_parser("train", help="train every init x seed of one cell as one stacked model")
    add_training_cell(p)
    p.add_argument("--curve-stride", type=int, default=1)
    p.add_argument("--inits", type=_names, required=True)
    p.add_argument("--seeds", type=_seeds, required=True)
    p.add_argument("--out", required=True, help="training rows CSV")
    p.add_argument("--curves", required=True, help="loss-curve rows CSV")
    _add_custom_inits(p)
    _add_threads(p)
    _add_timings(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("ablate", help="layer-swap ablation: init A everywhere but one layer of init B, each layer in turn")
    add_training_cell(p)
    p.add_argument("--init-a", required=True, help="the init of every other layer")
    p.add_argument("--init-b", required=True, help="the init of the swapped layer")
    p.add_argument("--seeds", type=_seeds, required=True)
    p.add_argument("--out", required=True, help="ablation rows CSV")
    _add_custom_inits(p)
    _add_threads(p)
    _add_timings(p)
    p.set_defaults(func=cmd_ablate)

    def add_theory_grid(p: argparse.ArgumentParser, depths: str) -> None:
        p.add_argument("--activations", type=_names, required=True, help="comma-separated activation names")
        p.add_argument("--inits", type=_names, required=True, help="comma-separated init names")
        p.add_argument("--depths", type=_ints, required=True, help=depths)
        p.add_argument("--width", type=_ints, required=True, help="comma-separated widths")
        p.add_argument("--out", required=True)
        _add_custom_inits(p)
        _add_threads(p)
        _add_timings(p)

    p = sub.add_parser("theory", help="mean-field predictions for every probe layer (theory.csv)")
    add_theory_grid(p, "comma-separated depths")
    p.set_defaults(func=cmd_theory)

    p = sub.add_parser("theory-start", help="MoonMLP's predicted logit std and start loss (theory_start.csv)")
    p.add_argument("--data", required=True, help=".npz written by 'initlab dataset'")
    add_theory_grid(p, "comma-separated depths (hidden layers)")
    p.set_defaults(func=cmd_theory_start)

    p = sub.add_parser("aggregate", help="concatenate per-job CSVs into one sorted tidy table")
    p.add_argument("--table", required=True, help="signal_probe, training, curves, ablation or timings")
    p.add_argument("--out", required=True)
    p.add_argument(
        "--config", help="the study's validated config (results/config.json): check every row it promises is there once"
    )
    p.add_argument("inputs", nargs="+")
    p.set_defaults(func=cmd_aggregate)

    p = sub.add_parser("manifest", help="check every table against the config; write MANIFEST.json (rows, columns, SHA-256)")
    p.add_argument("--tables", required=True, type=Path, help="directory of the study's CSV tables")
    p.add_argument("--config", required=True, type=Path, help="the validated config (results/config.json)")
    p.add_argument("--out", required=True, type=Path, help="the manifest to write (results/tables/MANIFEST.json)")
    p.set_defaults(func=cmd_manifest)

    p = sub.add_parser("verify", help="re-check a results folder against its manifest and config (exit 1 if not)")
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
    p.add_argument("--out", required=True, type=Path, help="HTML file to write")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("compare", help="compare two result sets: tables, verdicts, seeds, provenance")
    p.add_argument("a", type=Path, help="result set A: a results/ folder or a folder of tables")
    p.add_argument("b", type=Path, help="result set B: the same")
    p.add_argument("--html", type=Path, default=None, help="also write the comparison as an HTML page")
    p.add_argument("--require-identical", action="store_true",
                   help="exit 1 also when a table is not byte-identical (a rerun elsewhere, e.g. on a cluster)")
    p.add_argument("--templates", type=Path, default=None, help="template folder (default: report_templates/)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("inspect", help="signal probe, verdicts and init check on your own PyTorch model")
    p.add_argument("model", help="FILE.py:FACTORY, a function returning the torch.nn.Module")
    p.add_argument("--input-shape", help="random N(0, 1) inputs of this shape, e.g. 64,3,32,32")
    p.add_argument("--inputs", help="inputs saved with torch.save: a tensor or a list of tensors")
    p.add_argument("--seed", type=int, default=0, help="seeds the model's init, the inputs and the probe loss")
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
