"""A pre-LayerNorm transformer with nn.MultiheadAttention: attention gets its rows and its check
(projections, the logits' scale), and the layers on a normalized residual branch get no
plain-stack gain advice."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from initlab.engine.attention import check
from initlab.engine.inspect import inspect
from initlab.engine.seeding import generator

WIDTH, HEADS = 32, 4


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(WIDTH)
        self.attn = nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)
        self.ln2 = nn.LayerNorm(WIDTH)
        self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


def transformer(qk_scale: float = 1.0) -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(WIDTH, WIDTH), *(Block() for _ in range(3)), nn.LayerNorm(WIDTH))
    with torch.no_grad():
        for block in model[1:4]:
            block.attn.in_proj_weight[: 2 * WIDTH].mul_(qk_scale)
    return model


X = torch.randn(8, 16, WIDTH, generator=generator(0))


def test_attention_has_rows_and_its_check():
    found = inspect(transformer(), X)
    attn = [r for r in found.rows if r.type == "MultiheadAttention"]
    assert [r.path for r in attn] == ["1.attn", "2.attn", "3.attn"]
    assert all(r.shape == "8x16x32" and r.grad_norm > 0 for r in attn)  # ||dL/d(in_proj_weight)||
    assert [a.path for a in found.attention] == ["1.attn", "2.attn", "3.attn"]
    a = found.attention[0]
    assert (a.embed_dim, a.heads, a.head_dim, a.keys) == (32, 4, 8, 16)
    assert a.q_sigma_w2 == pytest.approx(0.5, rel=0.15)  # xavier_uniform on the (3E, E) in_proj: 2E/4E
    assert 0.2 < a.score_std < 1 and not a.saturated and found.healthy
    assert "softmax(q·kᵀ/√8) over 16 keys" in a.message and "out_proj 32→32" in a.message


def test_large_logits_saturate_the_softmax():
    found = inspect(transformer(qk_scale=8.0), X)
    assert all(a.saturated and a.score_std > 10 for a in found.attention)
    assert not found.healthy and "saturated softmax" in found.summary()
    assert "saturated:" in found.attention[0].message and "normalize q and k" in found.attention[0].message


def test_the_check_recomputes_the_modules_own_scores():
    torch.manual_seed(0)
    m = nn.MultiheadAttention(WIDTH, HEADS)  # (L, N, E)
    q = torch.randn(10, 3, WIDTH, generator=generator(1))
    _, weights = m(q, q, q, need_weights=True, average_attn_weights=False)
    peaked = (weights.amax(-1) > 0.98).float().mean().item()
    c = check("attn", m, q, q)
    assert c.keys == 10 and c.peaked == pytest.approx(peaked)


def test_no_plain_stack_gain_advice_inside_normalized_branches():
    found = inspect(transformer(), X)
    r = found.residual
    assert len(r.blocks) == 6 and [b.name for b in r.blocks[:2]] == ["1 (attn)", "1 (mlp)"]
    assert r.blocks[0].branch_rows == ("1.ln1", "1.attn") and r.blocks[0].normalized == "on the branch (LayerNorm)"
    inside = [c for c in found.checks if c.path.startswith(("1.", "2.", "3."))]
    assert inside and {c.status for c in inside} == {"branch"}
    assert not any("try `" in c.message or "draw w" in c.message for c in inside)
    fc1 = next(c for c in inside if c.path == "1.mlp.0")
    assert "does not compound" in fc1.message and math.isfinite(fc1.scale)
    # The same Linear then GELU in a plain stack does get the per-layer gain advice.
    torch.manual_seed(0)
    plain = inspect(nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH)), X)
    assert plain.checks[0].status == "shrinks" and "draw w" in plain.checks[0].message
