"""The mean-field recursion against closed forms and Monte Carlo (initlab.engine.theory)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from initlab.engine import theory
from initlab.engine.health import VANISHED_GRADIENT_RATIO


@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        ("relu", 2.0),
        ("tanh", 1.0),
        ("sigmoid", 16.0),
        ("leaky_relu", 2.0 / (1.0 + theory.LEAKY_SLOPE**2)),
        ("gelu", 4.0),
    ],
)
def test_critical_sigma_w2(activation: str, expected: float) -> None:
    assert theory.critical_sigma_w2(activation) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("q", [1e-4, 0.3, 1.0, 7.0, 1e3])
def test_relu_second_moment_is_half_q(q: float) -> None:
    # E[relu(sqrt(q) z)^2] = q/2, so He's sigma_w2 = 2 is the fixed point of the map for every q.
    assert theory.next_q("relu", 2.0, 0.0, q) == pytest.approx(q, rel=1e-12)
    assert theory.layer_gain("relu", 2.0, 0.0, q) == pytest.approx(1.0, rel=1e-12)
    assert theory.chi("relu", 2.0, q) == pytest.approx(1.0, rel=1e-12)
    mean = theory.gaussian_expectation(lambda x: np.maximum(x, 0.0), q)
    assert mean == pytest.approx(math.sqrt(q / (2 * math.pi)), rel=1e-12)


def test_tanh_near_zero_is_linear() -> None:
    # tanh(x)^2 = x^2 - 2x^4/3 + ..., so E = q - 2 q^2 + O(q^3): linear to first order.
    for q in (1e-6, 1e-4, 1e-3):
        assert theory.next_q("tanh", 1.0, 0.0, q) == pytest.approx(q - 2 * q * q, rel=10 * q * q)
    assert theory.chi("tanh", 1.0, 1e-9) == pytest.approx(1.0, rel=1e-8)


def test_fixed_point_with_biases() -> None:
    # ReLU, sigma_w2 = 1, sigma_b2 = b: q* = q*/2 + b, so q* = 2b, reached from any start.
    b = 0.3
    stack = theory.predict_stack("relu", [(1.0, b)] * 60, [10] * 60, input_second_moment=5.0)
    assert stack[-1].q == pytest.approx(2 * b, rel=1e-9)
    assert theory.next_q("relu", 1.0, b, 2 * b) == pytest.approx(2 * b, rel=1e-12)


@pytest.mark.parametrize("activation", sorted(theory.PHI))
@pytest.mark.parametrize("q", [0.05, 1.0, 20.0])
def test_against_monte_carlo(activation: str, q: float) -> None:
    z = np.random.default_rng(7).standard_normal(400_000)
    phi, dphi = theory.PHI[activation]
    x = math.sqrt(q) * z
    for f in (phi, lambda v: phi(v) ** 2, lambda v: dphi(v) ** 2):
        sample = f(x)
        se = sample.std() / math.sqrt(len(sample))
        assert abs(theory.gaussian_expectation(f, q) - sample.mean()) < 5 * se + 1e-12
    stats = theory.post_activation_stats(activation, q)
    h = phi(x).astype(np.float32)
    assert stats["std"] == pytest.approx(float(h.std()), rel=0.01)
    assert stats["zero_ratio"] == pytest.approx(float((h == 0).mean()), abs=0.005)
    assert stats["saturated_ratio"] == pytest.approx(float((np.abs(h) > 0.98).mean()), abs=0.005)


def test_float32_underflow_counts_as_zero() -> None:
    # A sigmoid fed a huge signal outputs exact zeros in float32 for x below ~-104.
    assert theory.zero_below("sigmoid") == pytest.approx(-103.97, abs=0.05)
    assert theory.post_activation_stats("sigmoid", 1e8)["zero_ratio"] == pytest.approx(0.5, abs=0.01)
    assert theory.zero_below("tanh") == -math.inf


def test_backward_ratios() -> None:
    # PyTorch's default on ReLU: sigma_w2 = 1/3, so chi = 1/6 per layer and the first layer gets
    # (1/6)^((L-1)/2) of the last layer's ||dL/dh||.
    depth = 8
    layers = [(1 / 3, 0.0)] * depth
    stack = theory.predict_stack("relu", layers, [128] * depth)
    assert stack[0].act_grad_ratio == pytest.approx((1 / 6) ** ((depth - 1) / 2), rel=1e-9)
    assert stack[-1].act_grad_ratio == 1.0
    assert theory.predicted_failure("relu", stack[-1], stack[0]) == "vanished"


def test_predicted_failure_modes() -> None:
    fan = [128] * 20
    assert theory.predicted_failure("relu", *_ends(theory.predict_stack("relu", [(2.0, 0.0)] * 20, fan))) == ""
    assert (
        theory.predicted_failure("relu", *_ends(theory.predict_stack("relu", [(128.0, 0.0)] * 20, fan))) == "exploded"
    )
    assert (
        theory.predicted_failure("tanh", *_ends(theory.predict_stack("tanh", [(128.0, 0.0)] * 4, fan[:4])))
        == "saturated"
    )
    # Sigmoid with Xavier: forward std stays healthy, the gradient fades by chi ~ 1/16 per layer.
    sig = theory.predict_stack("sigmoid", [(1.0, 0.0)] * 8, fan[:8])
    assert sig[0].act_grad_ratio < VANISHED_GRADIENT_RATIO
    assert theory.predicted_failure("sigmoid", *_ends(sig)) == "gradient vanished"
    huge = theory.predict_stack("relu", [(1e6, 0.0)] * 20, fan)
    assert huge[-1].out_of_range and theory.predicted_failure("relu", *_ends(huge)) == "non-finite"


def test_unit_variance_by_construction() -> None:
    # None = LSUV: each layer rescaled to unit pre-activation variance, whatever the input scale.
    stack = theory.predict_stack("tanh", [None] * 5, [32] + [128] * 4, input_second_moment=9.0)
    assert [p.q for p in stack] == [1.0] * 5


def test_start_loss() -> None:
    # Zero logits: log 2; huge logits: E[softplus(d)] ~ E[max(d, 0)] = sqrt(2q / (2 pi)).
    assert theory.softmax_cross_entropy_start(0.0) == pytest.approx(math.log(2))
    assert theory.softmax_cross_entropy_start(1e4) == pytest.approx(math.sqrt(2e4 / (2 * math.pi)), rel=1e-3)


def test_unknown_activation_names_the_choices() -> None:
    with pytest.raises(ValueError, match="activation 'swish' has no theory; choose one of relu"):
        theory.next_q("swish", 1.0, 0.0, 1.0)


def test_no_torch_at_import() -> None:
    code = "import sys, initlab.engine.theory; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _ends(stack: list[theory.LayerPrediction]) -> tuple[theory.LayerPrediction, theory.LayerPrediction]:
    return stack[-1], stack[0]
