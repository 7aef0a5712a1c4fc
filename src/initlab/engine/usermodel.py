"""A user's model and inputs for ``initlab inspect``: ``FILE.py:FACTORY`` and an input shape or file.

Every mistake a user will make here (a missing file or factory, a factory that raises, a shape
that is not a shape) becomes one :class:`~initlab.engine.inspect.InspectError` line naming what
was given and what was expected, so the command line prints it without a traceback.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from initlab.engine.inspect import InspectError
from initlab.engine.seeding import derive_seed, generator

#: Inputs for ``--input-shape`` are N(0, 1) from a generator seeded with derive_seed(seed, INPUT_LABEL).
INPUT_LABEL = "inspect-input"


def _error_text(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


def split_spec(spec: str) -> tuple[Path, str]:
    """``path/to/file.py:build`` -> (path, "build")."""
    file, sep, name = spec.rpartition(":")
    if not sep or not file or not name:
        raise InspectError(f"expected FILE.py:FACTORY (e.g. examples/small_cnn.py:build), got {spec!r}")
    return Path(file), name


def load_factory(spec: str) -> Callable[[], object]:
    """The function ``FACTORY`` of ``FILE.py``, imported from the file (not from ``sys.path``)."""
    path, name = split_spec(spec)
    if not path.is_file():
        raise InspectError(f"file {str(path)!r} does not exist")
    module_name = f"initlab_user_{abs(hash(str(path.resolve())))}"
    spec_obj = importlib.util.spec_from_file_location(module_name, path)
    if spec_obj is None or spec_obj.loader is None:
        raise InspectError(f"file {str(path)!r} is not a Python file")
    module = importlib.util.module_from_spec(spec_obj)
    sys.modules[module_name] = module
    try:
        spec_obj.loader.exec_module(module)
    except Exception as err:
        raise InspectError(f"importing {path} raised {_error_text(err)}") from None
    factory = getattr(module, name, None)
    if not callable(factory):
        found = sorted(
            n
            for n, v in vars(module).items()
            if callable(v) and not n.startswith("_") and getattr(v, "__module__", None) == module_name
        )
        listing = ", ".join(found) if found else "none"
        raise InspectError(f"{path} has no function {name!r}; callables defined there: {listing}")
    return factory


def build_model(spec: str, seed: int = 0) -> nn.Module:
    """Call ``FACTORY()`` with torch's global RNG seeded by ``seed`` (layers draw their init from it)."""
    factory = load_factory(spec)
    path, name = split_spec(spec)
    torch.manual_seed(seed)
    try:
        model = factory()
    except Exception as err:
        raise InspectError(f"{name}() in {path} raised {_error_text(err)}") from None
    if not isinstance(model, nn.Module):
        raise InspectError(f"{name}() in {path} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def parse_shape(text: str) -> tuple[int, ...]:
    """``"64,3,32,32"`` -> (64, 3, 32, 32); anything else is one clear error."""
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        shape = ()
    if not shape or any(s < 1 for s in shape):
        raise InspectError(f"--input-shape {text!r} is not a list of positive integers like 64,3,32,32")
    return shape


def random_inputs(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """N(0, 1) inputs of ``shape``, seeded: the same command gives the same table."""
    return torch.randn(shape, generator=generator(derive_seed(seed, INPUT_LABEL)))


def load_inputs(path: str | Path) -> tuple[torch.Tensor, ...]:
    """A tensor, or a tuple/list of tensors (the model's positional arguments), saved with ``torch.save``."""
    path = Path(path)
    if not path.is_file():
        raise InspectError(f"--inputs file {str(path)!r} does not exist")
    try:
        value = torch.load(path, weights_only=True)
    except Exception as err:
        raise InspectError(f"--inputs {path} could not be read by torch.load: {_error_text(err)}") from None
    if isinstance(value, torch.Tensor):
        return (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
        return tuple(value)
    raise InspectError(f"--inputs {path} holds {type(value).__name__}; expected a tensor or a list of tensors")
