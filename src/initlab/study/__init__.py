"""The study: jobs to tables.

Seed blocks, the tidy tables' columns and CSV writer, aggregation, and readable config errors.
It may import the engine, never the report stage (tests/test_layout.py checks it).
"""
