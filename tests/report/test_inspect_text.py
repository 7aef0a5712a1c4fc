"""``initlab inspect`` in the terminal: 100 columns whatever the paths, and the verdict lines."""

from __future__ import annotations

import json
import math
import re

import torch
from torch import nn

from initlab.engine.inspect import inspect
from initlab.engine.seeding import generator
from initlab.report.inspect_text import (
    WIDTH,
    format_terminal,
    write_json,
    write_layers_csv,
)


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


def _flat(text: str) -> str:
    """The text with its line wrapping undone."""
    return " ".join(text.split())


def _mlp(depth: int, width: int = 64, scale_layer: int | None = None) -> nn.Sequential:
    """A plain ReLU MLP with Xavier init (He asks twice its Var(w)·fan_in): every layer shrinks."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    model = nn.Sequential(*layers)
    for i, m in enumerate(model):
        if isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)
            if i == scale_layer:
                with torch.no_grad():
                    m.weight.mul_(math.sqrt(2))  # this one layer is He
    return model


def test_identical_init_checks_are_one_line_with_their_layer_range():
    x = torch.randn(32, 64, generator=generator(0))
    text = format_terminal(inspect(_mlp(30), x))
    checks = [line for line in text.splitlines() if line.startswith("  layers ") and " then " in line]
    assert len(checks) == 1
    assert checks[0].startswith("  layers 0–58 (30 × Linear 64→64 then ReLU): Var(w)·fan_in = ")
    assert re.search(r"He asks 2: the signal shrinks ×0\.\d+–0\.\d+ per layer; try `he`", _flat(text))
    # One layer that differs gets its own line, and the rest stay one group around it.
    other = format_terminal(inspect(_mlp(30, scale_layer=20), x))
    assert "  20: Linear 64→64 then ReLU: Var(w)·fan_in = 2" in other
    assert "layers 0–58 (29 × Linear 64→64 then ReLU)" in other


def test_a_50_layer_model_fits_one_screen_and_the_table_is_behind_layers():
    x = torch.randn(32, 64, generator=generator(0))
    found = inspect(_mlp(50), x)  # the signal vanishes: 70 failing rows, grouped
    assert len(found.failing_rows) > 40
    text = format_terminal(found, "title")
    lines = text.splitlines()
    assert len(lines) <= 40 and max(len(line) for line in lines) <= WIDTH
    assert "layers 0–98 (50 × Linear 64→64 then ReLU)" in text
    assert re.search(r"\n  layers \d+–99 \(\d+ × ReLU\): vanished; std ", text)  # failing rows grouped too
    assert "Per-layer table (100 layer calls): --layers, or --csv/--json/--html." in text
    table = format_terminal(found, "title", layers=True).splitlines()
    assert len(table) >= len(lines) + 100


def test_the_residual_stream_and_attention_lines():
    from tests.engine.test_attention import X as TX
    from tests.engine.test_attention import transformer
    from tests.engine.test_residual import X as RX
    from tests.engine.test_residual import resnet

    grows = _flat(format_terminal(inspect(resnet(blocks=6), RX)))
    assert "Residual stream: 6 blocks (identity shortcuts, found from the torch.fx graph)" in grows
    assert "Remedies: zero-init each branch's last layer" in grows and "Fixup" in grows
    fine = _flat(format_terminal(inspect(resnet(blocks=6, zero=True), RX)))
    assert "Remedies" not in fine and "Healthy by design" in fine and "Verdict: healthy" in fine
    text = format_terminal(inspect(transformer(), TX))
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    text = _flat(text)
    assert "Attention (the scores softmax(q·kᵀ/√d)" in text and "1.attn … 3.attn (3 calls)" in text
