"""A small ResNet without normalization, to try ``initlab inspect`` on residual networks.

    initlab inspect examples/resnet.py:build --input-shape 8,3,16,16
    initlab inspect examples/resnet.py:build_zero_branch --input-shape 8,3,16,16
    initlab inspect examples/resnet.py:build_batchnorm --input-shape 8,3,16,16

A 3→16 conv stem, then 12 basic blocks ``relu(x + conv2(relu(conv1(x))))`` and a linear head,
every conv and linear drawn with He's N(0, 2/fan_in), biases zero. ``build`` lets the residual
stream grow block after block; ``build_zero_branch`` zeroes each branch's last conv, as Fixup
prescribes; ``build_batchnorm`` puts BatchNorm after each conv of the branch.
"""

import torch
from torch import nn

CHANNELS = 16
BLOCKS = 12


class BasicBlock(nn.Module):
    """``relu(x + conv2(relu(conv1(x))))``, with BatchNorm after each conv if ``norm``."""

    def __init__(self, channels: int = CHANNELS, norm: bool = False) -> None:
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


class ResNet(nn.Module):
    """Stem, ``blocks`` basic blocks, global average pooling and a 10-way linear head."""

    def __init__(self, blocks: int = BLOCKS, norm: bool = False) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, CHANNELS, 3, padding=1), nn.ReLU())
        self.blocks = nn.Sequential(*(BasicBlock(CHANNELS, norm) for _ in range(blocks)))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(CHANNELS, 10))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


def build() -> ResNet:
    """He init, no normalization: the residual stream grows with every block."""
    return ResNet()


def build_zero_branch() -> ResNet:
    """The same net with each branch's last conv zeroed (Fixup's start; SkipInit and ReZero get it with a zero scalar)."""
    model = ResNet()
    for block in model.blocks:
        nn.init.zeros_(block.conv2.weight)
    return model


def build_batchnorm() -> ResNet:
    """The same net with BatchNorm after each conv of every branch."""
    return ResNet(norm=True)
