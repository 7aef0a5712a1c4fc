"""What a user's module is, for ``initlab inspect``: an activation the theory knows, a normalization,
a layer that computes (a row of the per-layer table) or a container.

Shared by the pass (``engine.inspect``), the residual scan (``engine.residual``) and the
attention check (``engine.attention``), so each kind is decided in one place.
"""

from __future__ import annotations

from torch import nn

from initlab.engine.activations import ACTIVATIONS

#: Module class -> activation registry name (the activations the theory knows).
ACTIVATION_OF_MODULE: dict[type[nn.Module], str] = {a.module: a.name for a in ACTIVATIONS.values()}
#: Layers that rescale their input to unit scale: no gain is predicted through them.
NORMALIZATIONS: tuple[type[nn.Module], ...] = tuple(
    cls
    for cls in (
        nn.modules.batchnorm._NormBase,  # BatchNorm*, InstanceNorm*, SyncBatchNorm
        nn.LayerNorm,
        nn.GroupNorm,
        getattr(nn, "RMSNorm", None),
        nn.LocalResponseNorm,
    )
    if cls is not None
)


def activation_name(module: nn.Module) -> str | None:
    """The registry name of ``module``'s activation (subclasses count), None if it is none of them."""
    return next((ACTIVATION_OF_MODULE[c] for c in type(module).__mro__ if c in ACTIVATION_OF_MODULE), None)


def is_normalization(module: nn.Module) -> bool:
    return isinstance(module, NORMALIZATIONS)


def computes(module: nn.Module) -> bool:
    """A row of the per-layer table: a leaf, or a module with parameters of its own.

    The second kind is what leaf hooks miss: ``nn.MultiheadAttention`` computes with its own
    ``in_proj_weight`` and never calls its ``out_proj`` as a module; a custom layer may hold
    ``nn.Parameter`` directly next to child modules.
    """
    has_children = any(True for _ in module.children())
    return not has_children or any(p is not None for p in module._parameters.values())


def own_parameters(module: nn.Module) -> list[nn.Parameter]:
    """The parameters the module holds itself (not its children's)."""
    return [p for p in module._parameters.values() if p is not None]
