"""The engine: everything that computes.

Registries (activations, inits, optimizers), the models, the signal probe, the trainers, the
seeding rule, the data set and the lesson replay. It imports neither the study nor the report
stage (tests/test_layout.py checks it), and nothing here imports pandas or matplotlib, so a
compute job's start-up stays at ``import torch``.
"""
