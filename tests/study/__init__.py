"""Tests of initlab.study (mirroring src/initlab/study/)."""
