"""Tests of initlab.report (mirroring src/initlab/report/)."""
