"""Adam and SGD as plain tensor updates, the same arithmetic as ``torch.optim``'s.

Why not ``torch.optim``: constructing its first optimizer imports ``torch._dynamo`` (and sympy),
about 1.1 s on a 2-core machine, as much again as ``import torch``, paid by every training job.
These two update rules are a few ``_foreach`` operations each; they are written out here with
the operations, operands and order of ``torch.optim.Adam`` / ``SGD`` (torch 2.13, default
hyper-parameters, no weight decay, amsgrad or momentum), and ``tests/test_optim.py`` checks a
training run against ``torch.optim`` to the bit.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class SGD:
    """Plain SGD: p <- p - lr * grad."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float) -> None:
        self.params = list(params)
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        params = [p for p in self.params if p.grad is not None]
        torch._foreach_add_(params, [p.grad for p in params], alpha=-self.lr)


class Adam:
    """Adam (Kingma & Ba) with torch's defaults: betas (0.9, 0.999), eps 1e-8."""

    def __init__(
        self, params: Iterable[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        self.params = list(params)
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.steps = 0
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad for p in self.params]
        self.steps += 1
        torch._foreach_lerp_(self.exp_avg, grads, 1 - self.beta1)
        torch._foreach_mul_(self.exp_avg_sq, self.beta2)
        torch._foreach_addcmul_(self.exp_avg_sq, grads, grads, 1 - self.beta2)
        bias_correction1 = 1 - self.beta1**self.steps
        bias_correction2 = 1 - self.beta2**self.steps
        step_size = (self.lr / bias_correction1) * -1
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        torch._foreach_div_(denom, bias_correction2**0.5)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.exp_avg, denom, step_size)
