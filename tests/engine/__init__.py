"""Tests of initlab.engine (mirroring src/initlab/engine/)."""
