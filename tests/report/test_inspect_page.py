"""``initlab inspect --html``: the page's content follows the inspection, and it opens in a real
headless Chromium offline with both figures decoded (as the report does in tests/workflow)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from initlab.engine.inspect import LAYER_COLUMNS, inspect
from initlab.engine.seeding import generator
from initlab.report.inspect_page import (
    RESIDUAL_COLUMNS,
    layers_frame,
    render_page,
    residual_frame,
    write_page,
)
from tests.harness import browse, page_facts, with_probe

SECTION_IDS = ["verdict", "init-check", "layers"]


def _inspection(scale: float):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                m.weight.mul_(scale)
                m.bias.zero_()
    return inspect(model, torch.randn(64, 16, generator=generator(0)))


def test_layers_frame_is_the_table():
    found = _inspection(1.0)
    df = layers_frame(found)
    assert list(df.columns) == LAYER_COLUMNS and len(df) == len(found.rows)
    assert df["std"].tolist() == [r.std for r in found.rows]


def test_page_states_what_the_inspection_found():
    healthy = render_page(_inspection(1.0), "mlp")
    assert '<span class="verdict">healthy</span>' in healthy and 'class="flag"' not in healthy
    assert "2: Linear 32→32 then Tanh: Var(w)·fan_in = " in healthy
    broken = render_page(_inspection(1e-4), "mlp")  # every layer shrinks the signal ×1e-4
    assert '<span class="verdict">problems found</span>' in broken
    assert '<span class="flag">vanished</span>' in broken
    # tanh asks sigma_w2 = 1: LeCun's 1/fan_in for 16→32, and Xavier (first in the registry) ties with it at 32→32.
    assert "0: Linear 16→32 then Tanh: Var(w)·fan_in = " in broken and "try `lecun`" in broken
    assert "try `xavier`" in broken and "the signal shrinks ×" in broken


@pytest.mark.slow
def test_page_opens_offline_in_chromium_with_both_figures(chromium, tmp_path):
    page = write_page(_inspection(1e-4), tmp_path / "page.html", "examples/mlp.py:build")
    run = browse(chromium, tmp_path, with_probe(page, tmp_path / "probe.html"), "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    for section in SECTION_IDS:
        assert f'id="{section}"' in dom, section
    facts = page_facts(dom)
    assert facts["images"] == 2 and facts["decoded"] == 2
    assert facts["height"] > 1000


@pytest.mark.slow
def test_page_screenshot_is_not_blank(chromium, tmp_path):
    from PIL import Image

    page = write_page(_inspection(1.0), tmp_path / "page.html", "mlp")
    shot = tmp_path / "page.png"
    run = browse(chromium, tmp_path, page, f"--screenshot={shot}", "--window-size=1280,2000")
    assert run.returncode == 0, run.stderr[-2000:]
    lo, hi = Image.open(shot).convert("L").getextrema()
    assert hi - lo > 100


def _resnet(zero: bool = False):
    from tests.engine.test_residual import X, resnet

    return inspect(resnet(blocks=6, zero=zero), X)


def test_page_shows_the_residual_stream_per_block():
    found = _resnet()
    df = residual_frame(found)
    assert list(df.columns) == RESIDUAL_COLUMNS and len(df) == 6
    assert df["output_std"].tolist() == [b.output_std for b in found.residual.blocks]
    assert df["scale"].tolist() == [b.scale for b in found.residual.blocks]
    page = render_page(found, "resnet")
    assert 'id="residual"' in page and "residual_stream.png" in page and page.count("data:image/png;base64,") == 3
    assert "Remedies:" in page and "Fixup" in page
    zero = render_page(_resnet(zero=True), "resnet")
    assert "Remedies:" not in zero and "Healthy by design" in zero
    plain = render_page(_inspection(1.0), "mlp")  # no residual block: no section, two figures
    assert 'id="residual"' not in plain and plain.count("data:image/png;base64,") == 2


@pytest.mark.slow
def test_residual_page_opens_offline_in_chromium_with_three_figures(chromium, tmp_path):
    page = write_page(_resnet(), tmp_path / "page.html", "resnet")
    run = browse(chromium, tmp_path, with_probe(page, tmp_path / "probe.html"), "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    for section in ["verdict", "residual", "init-check", "layers"]:
        assert f'id="{section}"' in dom, section
    facts = page_facts(dom)
    assert facts["images"] == 3 and facts["decoded"] == 3
