"""A small CNN for scikit-learn's 8x8 digits, the model of ``config/digits.yaml``.

    snakemake --cores 2 --configfile config/digits.yaml
    initlab inspect examples/digits_cnn.py:build --input-shape 64,1,8,8

Two 3x3 convolutions (padding 1, ReLU), a 2x2 max-pool, and a Linear to the 10 classes: 8x8x1 ->
8x8x8 -> 8x8x16 -> 4x4x16 -> 10. Built from torch.nn layers only, with PyTorch's default init:
initlab draws each init scheme over it (every Conv2d and Linear, by its fans).
"""

from torch import nn


def build(channels: int = 8, classes: int = 10) -> nn.Sequential:
    """The CNN; ``channels`` sets the first convolution's width (the second has twice as many)."""
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(channels, 2 * channels, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * channels * 4 * 4, classes),
    )
