"""A small pre-LayerNorm transformer, to try ``initlab inspect`` on attention.

    initlab inspect examples/transformer.py:build --input-shape 8,16,32

Inputs are already embedded (batch, tokens, width): a linear embedding, 3 blocks of
``x + attn(ln1(x))`` and ``x + mlp(ln2(x))`` with ``nn.MultiheadAttention``, a final LayerNorm and
a linear head. PyTorch's default init throughout.
"""

import torch
from torch import nn

WIDTH = 32
HEADS = 4
BLOCKS = 3


class Block(nn.Module):
    """Pre-LN transformer block: attention and an MLP, each on a residual branch."""

    def __init__(self, width: int = WIDTH, heads: int = HEADS) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class Transformer(nn.Module):
    """Embedding, ``blocks`` pre-LN blocks, a final LayerNorm and a 10-way head."""

    def __init__(self, blocks: int = BLOCKS) -> None:
        super().__init__()
        self.embed = nn.Linear(WIDTH, WIDTH)
        self.blocks = nn.Sequential(*(Block() for _ in range(blocks)))
        self.ln = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.ln(self.blocks(self.embed(x))))


def build() -> Transformer:
    """PyTorch's default init."""
    return Transformer()
