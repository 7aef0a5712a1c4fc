"""``initlab inspect FILE.py:FACTORY``: the example end to end, and every user mistake as one exact line."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from initlab.cli import main
from tests.harness import REPO

EXAMPLE = "examples/small_cnn.py"


def _error(capsys, *argv: str) -> str:
    """Run the CLI in-process; it must fail with exit code 2 and exactly one stderr line."""
    assert main(["inspect", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.rstrip("\n")


@pytest.fixture
def models(tmp_path: Path) -> Path:
    (tmp_path / "models.py").write_text(
        "import torch\nfrom torch import nn\n\n"
        "def mlp():\n    return nn.Sequential(nn.Linear(3, 4), nn.ReLU())\n\n"
        "def broken():\n    raise ValueError('width must be even, got 3')\n\n"
        "def not_a_model():\n    return 42\n\n"
        "class Raw(nn.Module):\n"
        "    def forward(self, x):\n        return 2 * x\n\n"
        "def raw():\n    return Raw()\n"
    )
    (tmp_path / "bad_import.py").write_text("import torch\nraise ImportError('no module named timm')\n")
    return tmp_path


def test_errors_a_user_will_make_are_one_line_each(models, capsys, tmp_path):
    m = models / "models.py"
    assert _error(capsys, f"{tmp_path}/nope.py:build", "--input-shape", "2,3") == (
        f"initlab inspect: error: file '{tmp_path}/nope.py' does not exist"
    )
    assert _error(capsys, str(m), "--input-shape", "2,3") == (
        f"initlab inspect: error: expected FILE.py:FACTORY (e.g. examples/small_cnn.py:build), got '{m}'"
    )
    assert _error(capsys, f"{m}:buld", "--input-shape", "2,3") == (
        f"initlab inspect: error: {m} has no function 'buld'; callables defined there: Raw, broken, mlp, "
        "not_a_model, raw"
    )
    assert _error(capsys, f"{m}:broken", "--input-shape", "2,3") == (
        f"initlab inspect: error: broken() in {m} raised ValueError: width must be even, got 3"
    )
    assert _error(capsys, f"{m}:not_a_model", "--input-shape", "2,3") == (
        f"initlab inspect: error: not_a_model() in {m} returned int, not a torch.nn.Module"
    )
    assert _error(capsys, f"{models}/bad_import.py:build", "--input-shape", "2,3") == (
        f"initlab inspect: error: importing {models}/bad_import.py raised ImportError: no module named timm"
    )
    assert _error(capsys, f"{m}:mlp", "--input-shape", "64,5") == (
        "initlab inspect: error: the model rejected inputs of shape 64x5: RuntimeError: mat1 and mat2 shapes "
        "cannot be multiplied (64x5 and 3x4)"
    )
    assert _error(capsys, f"{m}:raw", "--input-shape", "2,3") == (
        "initlab inspect: error: the model (Raw) has no modules to hook: no leaf modules and no parameters; "
        "build it from torch.nn layers (nn.Linear, nn.Conv2d, nn.ReLU, ...) or nn.Parameter"
    )
    assert _error(capsys, f"{m}:mlp", "--input-shape", "64,three") == (
        "initlab inspect: error: --input-shape '64,three' is not a list of positive integers like 64,3,32,32"
    )
    assert _error(capsys, f"{m}:mlp") == (
        "initlab inspect: error: give exactly one of --input-shape (e.g. 64,3,32,32) or --inputs FILE.pt"
    )
    assert _error(capsys, f"{m}:mlp", "--inputs", f"{tmp_path}/x.pt") == (
        f"initlab inspect: error: --inputs file '{tmp_path}/x.pt' does not exist"
    )


def test_inputs_from_a_file(models, capsys, tmp_path):
    torch.save(torch.ones(5, 3), tmp_path / "x.pt")
    assert (
        main(
            [
                "inspect",
                f"{models}/models.py:mlp",
                "--inputs",
                str(tmp_path / "x.pt"),
                "--csv",
                str(tmp_path / "out/layers.csv"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "5x4" in out and "--inputs" in out
    rows = list(csv.DictReader((tmp_path / "out/layers.csv").open()))
    assert [r["type"] for r in rows] == ["Linear", "ReLU"] and rows[1]["grad_norm"] == ""


def test_the_example_end_to_end(tmp_path):
    """The README's command: a table in 100 columns, actionable verdicts, CSV, JSON and HTML."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "initlab",
            "inspect",
            f"{EXAMPLE}:build",
            "--input-shape",
            "16,3,32,32",
            "--csv",
            str(tmp_path / "layers.csv"),
            "--json",
            str(tmp_path / "inspect.json"),
            "--html",
            str(tmp_path / "inspect.html"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert any(line.startswith("  0: Conv2d 3→32 then ReLU: Var(w)·fan_in = 0.34, He asks 2") for line in lines)
    assert "the signal shrinks ×0.41 per layer; try" in run.stdout
    assert "Verdict: healthy:" in run.stdout and "(try `he`)" in run.stdout
    data = json.loads((tmp_path / "inspect.json").read_text())
    assert data["model"] == f"{EXAMPLE}:build" and len(data["layers"]) == 12
    assert [c["status"] for c in data["init_checks"]] == ["shrinks", "shrinks", "shrinks", "normalized"]
    rows = list(csv.DictReader((tmp_path / "layers.csv").open()))
    assert [r["path"] for r in rows] == [str(i) for i in range(12)]
    assert (tmp_path / "inspect.html").read_text().count("data:image/png;base64,") == 2


def test_an_inputs_file_that_holds_no_tensor(models, capsys, tmp_path):
    torch.save({"x": torch.ones(2, 3)}, tmp_path / "d.pt")
    assert _error(capsys, f"{models}/models.py:mlp", "--inputs", str(tmp_path / "d.pt")) == (
        f"initlab inspect: error: --inputs {tmp_path}/d.pt holds dict; expected a tensor or a list of tensors"
    )


def test_the_per_layer_table_is_behind_layers(models, capsys):
    assert main(["inspect", f"{models}/models.py:mlp", "--input-shape", "5,3"]) == 0
    short = capsys.readouterr().out
    assert "|dL/dW|" not in short and "Per-layer table (2 layer calls): --layers" in short
    assert main(["inspect", f"{models}/models.py:mlp", "--input-shape", "5,3", "--layers"]) == 0
    table = capsys.readouterr().out
    assert "|dL/dW|" in table and "Per-layer table" not in table


@pytest.mark.parametrize(
    "factory, shape, says",
    [
        ("resnet.py:build", "8,3,16,16", "Remedies: zero-init each branch's last layer"),
        ("resnet.py:build_zero_branch", "8,3,16,16", "Healthy by design"),
        ("resnet.py:build_batchnorm", "8,3,16,16", "Normalization on the branch (BatchNorm2d)"),
        ("transformer.py:build", "8,16,32", "blocks.0.attn … blocks.2.attn (3 calls): MultiheadAttention 32"),
    ],
)
def test_the_examples(factory, shape, says, capsys, tmp_path):
    assert (
        main(["inspect", f"{REPO}/examples/{factory}", "--input-shape", shape, "--json", str(tmp_path / "x.json")]) == 0
    )
    out = capsys.readouterr().out
    assert says in " ".join(out.split()) and max(len(line) for line in out.splitlines()) <= 100
    assert len(out.splitlines()) <= 40
    data = json.loads((tmp_path / "x.json").read_text())
    assert data["residual"]["blocks"] and data["residual"]["sentences"]
