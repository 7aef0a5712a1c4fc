"""A small CNN for 32x32 RGB images, to try ``initlab inspect`` on (README: "Probe your own model").

    initlab inspect examples/small_cnn.py:build --input-shape 64,3,32,32
    initlab inspect examples/small_cnn.py:build_he --input-shape 64,3,32,32

``build`` keeps PyTorch's default init (kaiming_uniform with a = sqrt(5): Var(w)·fan_in = 1/3);
``build_he`` re-draws every conv and linear weight with He's N(0, 2/fan_in) and zero biases.
Neither reads anything but torch's global RNG, which ``initlab inspect`` seeds (--seed).
"""

from torch import nn


def build() -> nn.Sequential:
    """Three conv stages (the third with BatchNorm), global average pooling and a linear classifier."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1, stride=2),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 128, 3, padding=1, stride=2),
        nn.BatchNorm2d(128),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(128, 10),
    )


def build_he() -> nn.Sequential:
    """The same network with He initialization (``kaiming_normal_``, fan_in, relu) and zero biases."""
    model = build()
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(module.bias)
    return model
