"""Residual structure found from the model itself, and the residual-aware verdicts: an unnormalized
ResNet (the stream grows, a remedy is named), the same with zero-initialised branches (healthy by
design), with BatchNorm (healthy, normalization noted), a projection shortcut, a ReZero scalar, and
the hook-value scan where torch.fx cannot trace the model."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from initlab.engine import depth, health
from initlab.engine.depth import DEEPEST_PROBE
from initlab.engine.inspect import inspect
from initlab.engine.residual import REMEDIES, scan
from initlab.engine.seeding import generator


class Basic(nn.Module):
    """relu(x + conv2(relu(conv1(x)))), with BatchNorm after each conv if ``norm``."""

    def __init__(self, channels: int = 16, norm: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels) if norm else None
        self.bn2 = nn.BatchNorm2d(channels) if norm else None
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(x)
        h = self.relu(h if self.bn1 is None else self.bn1(h))
        h = self.conv2(h)
        return self.relu(x + (h if self.bn2 is None else self.bn2(h)))


class Untraceable(Basic):
    """The same block with data-dependent control flow, which torch.fx cannot trace."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.isfinite().all()):
            return super().forward(x)
        return x


def resnet(blocks: int = 12, norm: bool = False, zero: bool = False, block: type = Basic) -> nn.Sequential:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), *(block(16, norm) for _ in range(blocks)))
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(m.bias)
    if zero:
        for b in model[2:]:
            nn.init.zeros_(b.conv2.weight)
    return model


X = torch.randn(8, 3, 16, 16, generator=generator(0))


def test_unnormalized_resnet_grows_and_the_verdict_names_a_remedy():
    found = inspect(resnet(), X)
    r = found.residual
    assert r is not None and r.method == "torch.fx graph" and len(r.blocks) == 12
    assert {b.shortcut for b in r.blocks} == {"identity"} and {b.after for b in r.blocks} == {"ReLU"}
    assert [b.name for b in r.blocks] == [str(i) for i in range(2, 14)]
    assert r.blocks[0].branch_rows == ("2.conv1", "2.relu", "2.conv2") and r.blocks[0].branch_last == "2.conv2"
    # The stream grows block after block, and the projection trips "exploded" within DEEPEST_PROBE blocks.
    assert r.blocks[-1].output_std > 10 * r.blocks[0].stream_std
    assert r.growth > 1.2 and r.status == "grows" and r.trip_failure == "exploded"
    assert 12 < r.trip_depth <= DEEPEST_PROBE
    std_at = depth.geometric(r.blocks[0].stream_std, r.growth)
    assert health.first_failure(std=std_at(r.trip_depth)) == "exploded"
    assert health.first_failure(std=std_at(r.trip_depth - 1)) == ""
    assert all(0.5 < b.scale < 3 for b in r.blocks)  # each branch is as loud as the stream
    assert not found.healthy and not found.failing_rows  # nothing has failed yet at 12 blocks ...
    assert "the residual stream grows ×" in found.summary()  # ... but the verdict says what will
    text = " ".join(r.sentences())
    for remedy in REMEDIES:
        assert remedy.name in text and remedy.source in text
    assert "zero-init each branch's last layer (2.conv2 … 13.conv2)" in text
    assert f"×{12**-0.5:.3g}" in text  # GPT-2's 1/sqrt(N) for N = 12 branches


def test_a_short_stack_at_the_same_rate_is_projected_the_same():
    short = inspect(resnet(blocks=3), X).residual
    assert short.status == "grows" and short.trip_depth <= DEEPEST_PROBE


def test_zero_initialised_branches_are_healthy_by_design():
    found = inspect(resnet(zero=True), X)
    r = found.residual
    assert r.status == "zero" and all(b.zero_branch for b in r.blocks) and r.growth == pytest.approx(1.0)
    assert found.healthy and found.verdict == "healthy" and not found.failing_rows
    # The criteria do trip on the branch's rows (no gradient before the zero layer, a constant zero
    # layer): the rows say why that is by design instead of failing.
    conv1 = next(row for row in found.rows if row.path == "2.conv1")
    assert conv1.act_grad_norm == 0 and conv1.failures == () and "gradient vanished by design" in conv1.note
    conv2 = next(row for row in found.rows if row.path == "2.conv2")
    assert conv2.std == 0 and "vanished by design" in conv2.note
    assert {c.status for c in found.checks if c.path.endswith("conv2")} == {"zero branch"}
    assert not any("try `" in c.message for c in found.checks)
    assert "Healthy by design" in r.sentences()[0] and "Fixup" in r.sentences()[0]
    # Not a blanket pardon: the same rows on a plain stack with a zero layer do fail.
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    nn.init.zeros_(plain[2].weight)
    nn.init.zeros_(plain[2].bias)
    plain_found = inspect(plain, torch.randn(16, 8, generator=generator(0)))
    assert plain_found.residual is None and "vanished" in plain_found.rows[-1].failures


def test_batchnorm_resnet_is_healthy_and_the_normalization_is_noted():
    found = inspect(resnet(norm=True), X)
    r = found.residual
    assert {b.normalized for b in r.blocks} == {"on the branch (BatchNorm2d)"}
    assert r.mode == "additive" and r.status == "ok" and r.trip_depth == 0
    assert found.healthy
    assert any(s.startswith("Normalization on the branch (BatchNorm2d)") for s in r.sentences())
    assert "Remedies" not in " ".join(r.sentences())
    # Inside a normalized branch the checks say what the branch's scale does, not plain-stack advice.
    conv1 = next(c for c in found.checks if c.path == "2.conv1")
    assert conv1.status == "branch" and "does not compound" in conv1.message


class Down(nn.Module):
    """A block that halves the resolution: relu(proj(x) + conv2(relu(conv1(x)))), proj a 1×1 stride-2 conv."""

    def __init__(self, channels: int = 8, traceable: bool = True) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(2 * channels, 2 * channels, 3, padding=1)
        self.proj = nn.Sequential(nn.Conv2d(channels, 2 * channels, 1, stride=2), nn.BatchNorm2d(2 * channels))
        self.relu = nn.ReLU()
        self.traceable = traceable

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.traceable and not bool(x.isfinite().all()):
            return x
        return self.relu(self.proj(x) + self.conv2(self.relu(self.conv1(x))))


@pytest.mark.parametrize("traceable, method", [(True, "torch.fx graph"), (False, "hook values")])
def test_a_projection_shortcut_is_detected(traceable, method):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), Down(8, traceable))
    found = scan(model, (X,), torch.get_rng_state())
    assert found.method.startswith(method)
    (block,) = found.blocks
    assert block.shortcut == "projection" and block.name == "1"
    assert block.shortcut_rows == ("1.proj.0", "1.proj.1")
    assert block.branch_rows == ("1.conv1", "1.relu", "1.conv2") and block.branch_last == "1.conv2"
    assert block.after == "ReLU"
    # The same sum without the dependency on x is no residual: two unrelated inputs added.
    plain = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1))
    assert scan(plain, (X,), torch.get_rng_state()).blocks == []


def test_hook_values_find_the_blocks_fx_finds():
    traced = scan(resnet(blocks=3), (X,), torch.get_rng_state())
    fallback = scan(resnet(blocks=3, block=Untraceable), (X,), torch.get_rng_state())
    assert traced.method == "torch.fx graph" and fallback.method.startswith("hook values")
    assert [b.name for b in fallback.blocks] == [b.name for b in traced.blocks]
    for a, b in zip(traced.blocks, fallback.blocks, strict=True):
        assert (a.stream_std, a.branch_std, a.output_std) == pytest.approx((b.stream_std, b.branch_std, b.output_std))
    zero = scan(resnet(blocks=3, zero=True, block=Untraceable), (X,), torch.get_rng_state())
    assert [b.zero_branch for b in zero.blocks] == [True] * 3 and zero.blocks[0].shortcut == "identity"


class ReZero(nn.Module):
    """x + alpha * mlp(x), alpha a learnable scalar that starts at 0 (SkipInit, ReZero)."""

    def __init__(self, width: int = 16, alpha: float = 0.0) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
        self.alpha = nn.Parameter(torch.full((), alpha))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.alpha * self.mlp(x)


def test_a_zero_scalar_on_the_branch_is_healthy_and_its_module_is_a_row():
    torch.manual_seed(0)
    x = torch.randn(32, 16, generator=generator(0))
    found = inspect(nn.Sequential(*(ReZero() for _ in range(6))), x)
    assert found.residual.status == "zero" and found.healthy
    assert [b.name for b in found.residual.blocks] == [str(i) for i in range(6)]
    rows = [r.path for r in found.rows]
    assert "0" in rows and "0.mlp.0" in rows  # the block holds nn.Parameter itself: it gets a row
    assert next(r for r in found.rows if r.path == "0").grad_norm > 0  # dL/dalpha, what training moves first
    torch.manual_seed(0)
    loud = inspect(nn.Sequential(*(ReZero(alpha=3.0) for _ in range(6))), x)
    assert loud.residual.status == "grows" and not loud.healthy
    assert math.isfinite(loud.residual.growth)
