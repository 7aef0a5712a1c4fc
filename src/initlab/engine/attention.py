"""``nn.MultiheadAttention`` in ``initlab inspect``: its projections and the scale of its logits.

Hooks on leaf modules never see attention's projections: the module multiplies by its own
``in_proj_weight`` (or ``q/k/v_proj_weight``) and its ``out_proj`` weight without calling them.
This check reads them: each projection's fan-in and Var(w)·fan_in, what follows it (q and k: the
scores softmax(q·kᵀ/√d); v: the attention-weighted sum, then ``out_proj``), and the scores
themselves, recomputed from the call's query and key: their std, and how many queries put almost
all their weight on one key (a saturated softmax passes almost no gradient to the scores).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from initlab.engine.health import SATURATED_FRACTION, SATURATION_THRESHOLD


@dataclass(frozen=True)
class AttentionCheck:
    """One call of one ``nn.MultiheadAttention``.

    ``q_sigma_w2``/``k_sigma_w2``/``v_sigma_w2``/``out_sigma_w2``: Var(w)·fan_in of each
    projection; ``score_std``: std of q·kᵀ/√head_dim over every head, query and key (masks not
    applied); ``peaked``: fraction of (head, query) rows whose largest softmax weight exceeds the
    lesson's saturation threshold (0.98, as a tanh within 2% of its rail); ``saturated``: more than
    the study's SATURATED_FRACTION of rows are peaked.
    """

    path: str
    embed_dim: int
    heads: int
    head_dim: int
    keys: int
    q_sigma_w2: float
    k_sigma_w2: float
    v_sigma_w2: float
    out_sigma_w2: float
    score_std: float
    peaked: float

    @property
    def saturated(self) -> bool:
        return self.peaked > SATURATED_FRACTION

    @property
    def message(self) -> str:
        return describe([self])

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d.update(saturated=self.saturated, message=self.message)
        return d


def _span(values: list[float], fmt: str = ".2g") -> str:
    """One number, or the range "lo–hi" where the values print differently."""
    lo, hi = format(min(values), fmt), format(max(values), fmt)
    return lo if lo == hi else f"{lo}–{hi}"


def describe(checks: list[AttentionCheck]) -> str:
    """One sentence for one attention call, or for several of one shape (each number's range)."""
    c = checks[0]
    e, h, d = c.embed_dim, c.heads, c.head_dim
    label = c.path if len(checks) == 1 else f"{c.path} … {checks[-1].path} ({len(checks)} calls)"
    peaked = _span([k.peaked for k in checks], ".0%")
    share = f"{peaked} of queries put more than {SATURATION_THRESHOLD:g} of their weight on one key"
    if any(k.saturated for k in checks):
        verdict = (
            f"saturated: {share}, so the scores get almost no gradient; scale q·kᵀ down (smaller q and k "
            "projections) or normalize q and k"
        )
    else:
        verdict = f"{share}, fine"
    sigma = _span([v for k in checks for v in (k.q_sigma_w2, k.k_sigma_w2, k.v_sigma_w2)])
    return (
        f"{label}: MultiheadAttention {e} ({h} heads × {d}): q, k, v projections fan_in {e}, Var(w)·fan_in = "
        f"{sigma}; q and k feed softmax(q·kᵀ/√{d}) over {_span([k.keys for k in checks], 'd')} keys: the scores' "
        f"std is {_span([k.score_std for k in checks], '.3g')}, {verdict}; v feeds the weighted sum, then out_proj "
        f"{e}→{e} with Var(w)·fan_in = {_span([k.out_sigma_w2 for k in checks])}"
    )


def grouped(checks: list[AttentionCheck]) -> list[list[AttentionCheck]]:
    """Attention calls of one shape and one verdict, in groups (the order each first appears)."""
    groups: dict[tuple, list[AttentionCheck]] = {}
    for c in checks:
        groups.setdefault((c.embed_dim, c.heads, c.saturated), []).append(c)
    return list(groups.values())


def _sigma_w2(w: torch.Tensor) -> float:
    """Var(w)·fan_in of a (out, in) projection."""
    with torch.no_grad():
        return w.detach().double().var(unbiased=False).item() * w.shape[1] if w.numel() > 1 else 0.0


def _weights(m: nn.MultiheadAttention) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if m.in_proj_weight is not None:
        return tuple(m.in_proj_weight.chunk(3))  # type: ignore[return-value]
    return m.q_proj_weight, m.k_proj_weight, m.v_proj_weight


def _biases(m: nn.MultiheadAttention) -> tuple[torch.Tensor | None, ...]:
    return tuple(m.in_proj_bias.chunk(3)) if m.in_proj_bias is not None else (None, None, None)


def check(path: str, m: nn.MultiheadAttention, query: torch.Tensor, key: torch.Tensor) -> AttentionCheck:
    """The check of one call, from its query and key (as the module received them)."""
    wq, wk, wv = _weights(m)
    bq, bk, _ = _biases(m)
    with torch.no_grad():
        q, k = query.detach(), key.detach()
        if q.dim() == 2:  # unbatched (L, E)
            q, k = q.unsqueeze(0), k.unsqueeze(0)
        elif not m.batch_first:  # (L, N, E) -> (N, L, E)
            q, k = q.transpose(0, 1), k.transpose(0, 1)
        heads, d = m.num_heads, m.head_dim
        qp = nn.functional.linear(q, wq, bq).unflatten(-1, (heads, d)).transpose(1, 2)
        kp = nn.functional.linear(k, wk, bk).unflatten(-1, (heads, d)).transpose(1, 2)
        scores = qp @ kp.transpose(-1, -2) / math.sqrt(d)
        peak = scores.softmax(-1).amax(-1)
        peaked = (peak > SATURATION_THRESHOLD).float().mean().item()
        std = scores.std().item() if scores.numel() > 1 else 0.0
    return AttentionCheck(
        path,
        m.embed_dim,
        heads,
        d,
        kp.shape[-2],
        _sigma_w2(wq),
        _sigma_w2(wk),
        _sigma_w2(wv),
        _sigma_w2(m.out_proj.weight),
        std,
        peaked,
    )
