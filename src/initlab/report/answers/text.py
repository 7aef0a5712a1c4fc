"""Wording helpers for the answers' sentences."""

from __future__ import annotations


def names(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def verb(names: list[str], singular: str = "fails", plural: str = "fail") -> str:
    return singular if len(names) == 1 else plural
