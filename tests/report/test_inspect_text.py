"""``initlab inspect`` in the terminal: 100 columns whatever the paths, and the verdict lines."""

from __future__ import annotations

import json
import math

import torch
from torch import nn

from initlab.engine.inspect import inspect
from initlab.engine.seeding import generator
from initlab.report.inspect_text import WIDTH, format_terminal, write_json, write_layers_csv


class Deep(nn.Module):
    """Long module paths and long type names, as in a real library model."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.encoder_with_a_long_name = nn.ModuleDict(
            {"attention_output_projection": nn.Linear(8, 8), "activation": nn.Sigmoid()}
        )
        self.pool = nn.AdaptiveAvgPool1d(4)
        with torch.no_grad():
            self.encoder_with_a_long_name["attention_output_projection"].weight.mul_(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block = self.encoder_with_a_long_name
        return self.pool(block["activation"](block["attention_output_projection"](x)).unsqueeze(1)).squeeze(1)


def test_table_fits_100_columns_and_shortens_paths_from_the_left():
    torch.manual_seed(0)
    found = inspect(Deep(1.0), torch.randn(16, 8, generator=generator(0)))
    assert "AdaptiveAvgPool1d" not in format_terminal(found, "title")  # the table is behind --layers
    text = format_terminal(found, "title", layers=True)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    row = next(line for line in lines if line.lstrip().startswith("1 "))
    assert "…" in row and "projection" in row and "Linear" in row  # the end of a path names the layer
    assert any("AdaptiveAvgPool1d" in line for line in lines)


def test_verdict_lines_follow_the_inspection(tmp_path):
    x = torch.randn(16, 8, generator=generator(0))
    torch.manual_seed(0)
    fine = format_terminal(inspect(Deep(1.0), x))
    assert "Verdict: healthy:" in fine and "Failing layers:" not in fine
    torch.manual_seed(0)
    found = inspect(Deep(100.0), x)  # sigmoid pinned to its rails
    loud = format_terminal(found)
    assert "Verdict: problems found:" in loud and "satur" in loud
    assert "Failing layers:\n  encoder_with_a_long_name.activation (Sigmoid): saturated" in loud
    assert "try `" in loud or "no registry scheme fits" in loud
    write_json(found, tmp_path / "x.json", {"model": "deep"})
    data = json.loads((tmp_path / "x.json").read_text())
    assert data["model"] == "deep" and data["verdict"] == "problems found"
    assert data["layers"][2]["grad_norm"] is None  # NaN (no weight) as null
    write_layers_csv(found, tmp_path / "x.csv")
    header, *rows = (tmp_path / "x.csv").read_text().splitlines()
    assert header.startswith("call,path,type,activation,shape,") and len(rows) == 3
    assert rows[1].split(",")[3] == "sigmoid" and not math.isnan(float(rows[1].split(",")[6]))
