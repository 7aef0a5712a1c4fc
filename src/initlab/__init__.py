"""initlab: weight-initialization experiments from the lesson "6.1.7 Weight Initialization".

The package has three stages, each a subpackage; a lower stage never imports a higher one
(``tests/test_layout.py`` checks it):

- ``engine``: computes. Registries (``activations``, ``inits``, ``registry``), ``models``,
  ``probe``, ``train``, ``optim``, ``seeding``, ``data`` and ``lesson`` (the lab replays).
- ``study``: jobs to tables. ``blocks`` (seed blocks), ``tables`` (columns, CSV writer),
  ``aggregate``, ``configcheck`` (readable config errors).
- ``report``: tables to answers. ``stats``, ``answers/``, ``figures``, ``render`` (the HTML).

``cli`` (the ``initlab`` command line the workflow's rules call) sits above all three.
``initlab.inspect(model, inputs, loss=None)`` is ``initlab.engine.inspect.inspect``: the signal
probe, verdicts and init check on a user's own model (also ``initlab inspect FILE.py:FACTORY``).
Importing ``initlab`` imports nothing heavy; each module imports torch itself.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``initlab.inspect(model, inputs, loss=None)``: imported on first use, so ``import initlab`` stays light."""
    if name == "inspect":
        from initlab.engine.inspect import inspect

        return inspect
    raise AttributeError(f"module 'initlab' has no attribute {name!r}")
