"""initlab.engine.optim must update exactly as torch.optim does, to the bit, over a real training run."""

import pytest
import torch

from initlab.engine import optim
from initlab.engine.train import TrainSpec, build_initialized

TORCH = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
OURS = {"adam": optim.Adam, "sgd": optim.SGD}


def _run(moons, factory, lr, steps=60):
    x = torch.from_numpy(moons.x_train)
    y = torch.from_numpy(moons.y_train)
    model = build_initialized(TrainSpec(depth=3, width=16, activation="tanh"), "he", 0, x)
    opt = factory(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return losses, [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("name, lr", [("adam", 0.01), ("adam", 0.3), ("sgd", 0.1)])
def test_same_trajectory_as_torch_optim(moons, name, lr):
    ours_losses, ours_params = _run(moons, OURS[name], lr)
    torch_losses, torch_params = _run(moons, TORCH[name], lr)
    assert ours_losses == torch_losses
    assert all(torch.equal(a, b) for a, b in zip(ours_params, torch_params, strict=True))


def test_zero_grad_clears_gradients():
    p = torch.ones(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.sum().backward()
    opt.zero_grad()
    assert p.grad is None
