"""initlab: weight-initialization experiments from the lesson "6.1.7 Weight Initialization".

The package is split so that every number in the study has one home:

- ``activations``: the activation registry (module, function, gain name).
- ``inits``: the initialization-scheme registry.
- ``models``: the probe network (Lab 1) and ``MoonMLP`` (Lab 2), by depth, width and activation.
- ``data``: the make_moons data set and its stratified split, saved to / loaded from ``.npz``.
- ``probe``: the signal probe (forward and backward statistics per layer).
- ``train``: the lesson's one-model training loop and the stacked many-model trainer.
- ``lesson``: the named "lesson replay" paths that print Lab 1 and Lab 2 exactly.
- ``cli``: the ``initlab`` command line used by the workflow's rules.

Importing ``initlab`` imports nothing heavy; each module imports torch itself.
"""

__version__ = "0.1.0"
