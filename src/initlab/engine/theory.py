"""Signal-propagation theory: what a freshly initialised stack of fully connected layers *should* do.

The mean-field picture (Poole et al. 2016, Schoenholz et al. 2017) behind the lesson's match table:
with weights of variance ``Var(w)`` and biases of variance ``sigma_b2`` in a wide layer, every
pre-activation is Gaussian with variance q, and layer by layer

    q(l+1) = sigma_w2 * E[phi(sqrt(q(l)) z)^2] + sigma_b2,   z ~ N(0, 1),  sigma_w2 = fan_in * Var(w)

while the backward signal ||dL/dh|| changes by sqrt(chi) per layer, chi = sigma_w2 * E[phi'(sqrt(q) z)^2].
From q follow every forward column of ``signal_probe.csv`` (mean, std, zero and saturated
fractions of the post-activation output), and from chi its gradient columns.

Pure numpy/scipy: no torch at import, so the report stage and tests use it for free. Activations
are named as in the activation registry (``initlab.engine.activations``); their numpy forms live
here in :data:`PHI`, next to their derivatives. Gaussian expectations are by Gauss quadrature
(:func:`gaussian_expectation`); the zero and saturated fractions, which are
probabilities of intervals, come exactly from the normal CDF.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, special

from initlab.engine import health
from initlab.engine.health import SATURATION_THRESHOLD

ArrayFn = Callable[[np.ndarray], np.ndarray]

#: Gauss-Legendre nodes per piece of :func:`gaussian_expectation`'s split. 128 gives E[relu(z)],
#: E[tanh(sqrt(q) z)^2] and E[tanh'(sqrt(q) z)^2] to ~1e-12 for q from 1e-6 to 1e8 (checked
#: against scipy.integrate.quad), at ~10 us per expectation.
QUADRATURE_NODES = 128
#: |z| beyond which the N(0, 1) density is below 1e-31: the quadrature's outer edge.
GAUSS_CUTOFF = 12.0
#: |x| beyond which every registry activation is linear or flat to float64 precision (tanh and
#: sigmoid saturate by ~20, GELU and SELU's exponential tails by ~40): the second split point.
ACTIVATION_SCALE = 40.0
#: Largest float32: a pre-activation beyond it is inf in the measured float32 network.
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: q used for the "small signal" limit of E[phi'^2] in :func:`critical_sigma_w2`.
SMALL_Q = 1e-12

# torch's constants for SELU and LeakyReLU's default slope.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
LEAKY_SLOPE = 0.01


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _relu_d(x: np.ndarray) -> np.ndarray:
    return (x > 0).astype(float)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return special.expit(x)


def _sigmoid_d(x: np.ndarray) -> np.ndarray:
    s = special.expit(x)
    return s * (1.0 - s)


def _tanh_d(x: np.ndarray) -> np.ndarray:
    return 1.0 - np.tanh(x) ** 2


def _leaky(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, LEAKY_SLOPE * x)


def _leaky_d(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, 1.0, LEAKY_SLOPE)


def _gelu(x: np.ndarray) -> np.ndarray:
    return x * special.ndtr(x)


def _gelu_d(x: np.ndarray) -> np.ndarray:
    return special.ndtr(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _selu(x: np.ndarray) -> np.ndarray:
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def _selu_d(x: np.ndarray) -> np.ndarray:
    return SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0)))


#: Every registry activation's numpy form and derivative: name -> (phi, phi').
PHI: dict[str, tuple[ArrayFn, ArrayFn]] = {
    "relu": (_relu, _relu_d),
    "tanh": (np.tanh, _tanh_d),
    "sigmoid": (_sigmoid, _sigmoid_d),
    "leaky_relu": (_leaky, _leaky_d),
    "gelu": (_gelu, _gelu_d),
    "selu": (_selu, _selu_d),
}


def _phi(activation: str) -> tuple[ArrayFn, ArrayFn]:
    try:
        return PHI[activation]
    except KeyError:
        raise ValueError(f"activation {activation!r} has no theory; choose one of {', '.join(PHI)}") from None


@functools.cache
def _legendre() -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1]."""
    nodes, weights = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    return (nodes + 1.0) / 2.0, weights / 2.0


def _gaussian_rule(q: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights (density included) for E[g(z)], z ~ N(0, 1), split where phi(sqrt(q) z) bends."""
    unit, w = _legendre()
    bend = min(GAUSS_CUTOFF, ACTIVATION_SCALE / math.sqrt(q)) if q > 0 else GAUSS_CUTOFF
    pieces = [(0.0, bend)] + ([(bend, GAUSS_CUTOFF)] if bend < GAUSS_CUTOFF else [])
    zs, ws = [], []
    for a, b in pieces:
        for sign in (1.0, -1.0):
            zs.append(sign * (a + (b - a) * unit))
            ws.append((b - a) * w)
    z, weight = np.concatenate(zs), np.concatenate(ws)
    return z, weight * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def gaussian_expectation(f: ArrayFn, q: float) -> float:
    """E[f(sqrt(q) z)], z ~ N(0, 1) (q >= 0; q = 0 gives f(0)).

    Gauss quadrature of the normal density split at z = 0 and at |sqrt(q) z| = ACTIVATION_SCALE,
    not plain Gauss-Hermite: Hermite nodes straddle ReLU's kink and a large signal's steep
    tanh/sigmoid step, which costs it ~1e-3 relative error at 200 nodes (E[relu(z)]), while
    Gauss-Legendre on pieces where the integrand is smooth is exact to ~1e-14 there.
    """
    q = max(q, 0.0)
    if q == 0.0:
        return float(f(np.zeros(1))[0])
    z, weight = _gaussian_rule(q)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.dot(weight, f(math.sqrt(q) * z)))


def next_q(activation: str, sigma_w2: float, sigma_b2: float, q: float) -> float:
    """The mean-field map: q(l+1) = sigma_w2 * E[phi(sqrt(q) z)^2] + sigma_b2."""
    phi, _ = _phi(activation)
    return sigma_w2 * gaussian_expectation(lambda x: phi(x) ** 2, q) + sigma_b2


def chi(activation: str, sigma_w2: float, q: float) -> float:
    """sigma_w2 * E[phi'(sqrt(q) z)^2]: how much ||dL/dh||^2 grows back through one layer at variance q."""
    _, dphi = _phi(activation)
    return sigma_w2 * gaussian_expectation(lambda x: dphi(x) ** 2, q)


def layer_gain(activation: str, sigma_w2: float, sigma_b2: float, q: float) -> float:
    """sqrt(next_q / q): the forward std gain of one layer at pre-activation variance q."""
    return math.sqrt(next_q(activation, sigma_w2, sigma_b2, q) / q)


def critical_sigma_w2(activation: str) -> float:
    """The sigma_w2 at which a zero-bias stack keeps a small signal's scale: 1 / lim_{q->0} E[phi'^2].

    relu 2 (He's factor), tanh 1, sigmoid 16, leaky_relu 2 / (1 + slope^2).
    """
    return 1.0 / chi(activation, 1.0, SMALL_Q)


@functools.cache
def _intervals_above(activation: str, threshold: float) -> tuple[tuple[float, float], ...]:
    """Pre-activation intervals where |phi(x)| > threshold, found on a grid and refined by brentq."""
    phi, _ = _phi(activation)
    grid = np.linspace(-200.0, 200.0, 40001)
    above = np.abs(phi(grid)) > threshold
    edges = [-math.inf]
    g = lambda x: abs(float(phi(np.array(x)))) - threshold  # noqa: E731
    for i in np.flatnonzero(above[1:] != above[:-1]):
        edges.append(optimize.brentq(g, grid[i], grid[i + 1]))
    edges.append(math.inf)
    # Intervals alternate between below and above, starting with whatever holds at -200.
    spans = list(zip(edges[:-1], edges[1:], strict=True))
    return tuple(s for k, s in enumerate(spans) if (k % 2 == 0) == bool(above[0]))


@functools.cache
def zero_below(activation: str) -> float:
    """Largest x with phi(y) == 0 in float32 for every y <= x (-inf: phi is never exactly 0).

    The probe counts exact zeros (``h == 0``): ReLU's negative half, and the float32 underflow of
    sigmoid (x below about -104) and GELU (about -14) that a huge signal reaches.
    """
    phi, _ = _phi(activation)
    is_zero = lambda x: np.float32(phi(np.array(x, dtype=np.float64))) == 0  # noqa: E731
    lo, hi = -1e4, 1.0
    if not is_zero(lo) or is_zero(hi):
        return -math.inf
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if is_zero(mid) else (lo, mid)
    return lo if lo < 0 or not is_zero(0.0) else 0.0


def _interval_probability(a: float, b: float, q: float) -> float:
    """P(a < sqrt(q) z < b)."""
    s = math.sqrt(q)
    if s == 0.0:
        return float(a < 0.0 < b)
    return float(special.ndtr(b / s) - special.ndtr(a / s))


def post_activation_stats(activation: str, q: float) -> dict[str, float]:
    """Predicted mean, std, zero_ratio and saturated_ratio of phi(sqrt(q) z): signal_probe.csv's columns."""
    phi, _ = _phi(activation)
    mean = gaussian_expectation(phi, q)
    second = gaussian_expectation(lambda x: phi(x) ** 2, q)
    cut = zero_below(activation)
    if q == 0.0:
        zero = float(phi(np.array(0.0)) == 0.0)
    else:
        zero = 0.0 if cut == -math.inf else _interval_probability(-math.inf, cut, q)
    saturated = sum(_interval_probability(a, b, q) for a, b in _intervals_above(activation, SATURATION_THRESHOLD))
    return {
        "mean": mean,
        "std": math.sqrt(max(second - mean * mean, 0.0)),
        "zero_ratio": zero,
        "saturated_ratio": float(saturated),
    }


@dataclass(frozen=True)
class LayerPrediction:
    """Theory's prediction for one layer of a stack (``layer`` counts from 1, as in the probe)."""

    layer: int
    sigma_w2: float
    sigma_b2: float
    q: float  # pre-activation variance
    mean: float
    std: float
    zero_ratio: float
    saturated_ratio: float
    second_moment: float  # E[h^2] of the post-activation output
    chi: float  # backward factor of this layer
    act_grad_ratio: float  # ||dL/dh_l|| / ||dL/dh_last||
    grad_ratio: float  # ||dL/dW_l|| / ||dL/dh_last||
    out_of_range: bool  # the pre-activation std left float32's range (the measured net has inf)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


#: A layer's variances: (sigma_w2, sigma_b2), or None for "rescaled to unit pre-activation
#: variance on data" (LSUV's construction: q = 1 whatever the draw).
LayerVariances = tuple[float, float] | None


def predict_stack(
    activation: str,
    layers: Sequence[LayerVariances],
    fan_ins: Sequence[int],
    input_second_moment: float = 1.0,
) -> list[LayerPrediction]:
    """Per-layer predictions for a stack Linear -> phi -> ... fed inputs with E[x_i^2] = input_second_moment.

    Backward ratios follow ||dL/dh_{l-1}||^2 = chi_l ||dL/dh_l||^2 (the loss's gradient enters
    at the last layer's output h), and ||dL/dW_l||^2 = ||dL/dh_l||^2 E[phi'(a_l)^2] fan_in_l E[h_{l-1}^2]
    (the cross-sample terms vanish in expectation when the loss's direction is independent per
    sample, as the probe's is); both are given relative to the last layer's ||dL/dh||.
    """
    if len(fan_ins) != len(layers):
        raise ValueError(f"fan_ins has {len(fan_ins)} entries for {len(layers)} layers")
    phi, dphi = _phi(activation)
    forward = []
    m = input_second_moment
    for variances in layers:
        if variances is None:
            q = 1.0
            sigma_w2, sigma_b2 = (1.0 / m if m > 0 else math.inf), 0.0
        else:
            sigma_w2, sigma_b2 = variances
            q = sigma_w2 * m + sigma_b2
        stats = post_activation_stats(activation, q) if math.isfinite(q) else _infinite_stats(activation)
        dphi2 = gaussian_expectation(lambda x: dphi(x) ** 2, q) if math.isfinite(q) else math.nan
        forward.append((sigma_w2, sigma_b2, q, stats, m, dphi2))
        m = stats["std"] ** 2 + stats["mean"] ** 2
    # Backward: product of sqrt(chi) from the top down.
    out: list[LayerPrediction] = []
    ratio = 1.0
    for i in range(len(forward) - 1, -1, -1):
        sigma_w2, sigma_b2, q, stats, m_in, dphi2 = forward[i]
        layer_chi = sigma_w2 * dphi2
        fan_in_term = fan_ins[i] * m_in
        out.append(
            LayerPrediction(
                layer=i + 1,
                sigma_w2=sigma_w2,
                sigma_b2=sigma_b2,
                q=q,
                mean=stats["mean"],
                std=stats["std"],
                zero_ratio=stats["zero_ratio"],
                saturated_ratio=stats["saturated_ratio"],
                second_moment=stats["std"] ** 2 + stats["mean"] ** 2,
                chi=layer_chi,
                act_grad_ratio=ratio,
                grad_ratio=ratio * math.sqrt(dphi2 * fan_in_term) if math.isfinite(dphi2) else math.nan,
                out_of_range=math.sqrt(q) > FLOAT32_MAX if math.isfinite(q) else True,
            )
        )
        ratio *= math.sqrt(layer_chi) if math.isfinite(layer_chi) else math.nan
    return out[::-1]


def _infinite_stats(activation: str) -> dict[str, float]:
    """A layer whose variance is already infinite: nothing finite to predict."""
    return {"mean": math.nan, "std": math.nan, "zero_ratio": math.nan, "saturated_ratio": math.nan}


def predicted_failure(activation: str, last: LayerPrediction, first: LayerPrediction) -> str:
    """The failure mode (:data:`initlab.engine.health.FAILURE_RULES`, the rules the report judges
    measured networks by) that theory predicts for a network whose first and last layers are
    predicted as given; "" when healthy.

    Theory has no count of non-finite values, only whether the last layer's pre-activation std
    left float32's range (``out_of_range``: the measured network holds inf there), so that flag
    stands in for the non-finite fraction, 1 when out of range and 0 otherwise: the non-finite
    rule only asks whether the fraction is above 0, and a NaN predicted std trips it by itself,
    so the rule reads "out of range or std not finite", as the prediction always has.
    """
    return health.first_failure(
        std=last.std,
        nonfinite_ratio=1.0 if last.out_of_range else 0.0,
        saturated_ratio=last.saturated_ratio,
        activation=activation,
        grad_ratio=first.act_grad_ratio,
    )


def softmax_cross_entropy_start(logit_q: float, classes: int = 2) -> float:
    """Expected cross-entropy at init when each of ``classes`` logits is an independent N(0, logit_q).

    Two classes: loss = softplus(d), d = z_other - z_true ~ N(0, 2 logit_q), by quadrature.
    """
    if classes != 2:
        raise ValueError(f"start-loss theory covers 2 classes, got {classes!r}")
    return gaussian_expectation(lambda d: np.logaddexp(0.0, d), 2.0 * logit_q)
