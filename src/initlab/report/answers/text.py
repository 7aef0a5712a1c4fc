"""Wording helpers for the answers' sentences."""

from __future__ import annotations


def names(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def verb(names: list[str], singular: str = "fails", plural: str = "fail") -> str:
    return singular if len(names) == 1 else plural


#: The one registry of names as a reader writes them: the tables keep their keys (``xavier``,
#: ``tanh``), every sentence, table header and figure label a reader sees uses these. A name
#: not listed (a custom init) is shown as it is.
DISPLAY_NAMES: dict[str, str] = {
    # inits
    "default": "PyTorch default",
    "zeros": "zeros",
    "tiny": "tiny",
    "large": "large",
    "xavier": "Xavier",
    "he": "He",
    "xavier_uniform": "Xavier (uniform)",
    "he_uniform": "He (uniform)",
    "lecun": "LeCun",
    "orthogonal": "orthogonal",
    "lsuv": "LSUV",
    # activations
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "Leaky ReLU",
    # optimizers
    "adam": "Adam",
    "sgd": "SGD",
}


def display(name: object) -> str:
    """``name`` as a reader writes it (:data:`DISPLAY_NAMES`), e.g. 'xavier' -> 'Xavier'."""
    return DISPLAY_NAMES.get(str(name), str(name))


def displays(items: list[str]) -> str:
    """:func:`names` of the display names."""
    return names([display(i) for i in items])


#: Significant digits of every number a reader sees in prose and report tables (the CSVs keep
#: theirs): 0.04676 against 0.04684 is noise at this study's seed spread; three digits are not.
SIGNIFICANT_DIGITS = 3


def sig(value: float) -> str:
    """``value`` with :data:`SIGNIFICANT_DIGITS` significant digits ('∞' for infinity)."""
    value = float(value)
    if value != value:
        return "n/a"
    if value in (float("inf"), float("-inf")):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{SIGNIFICANT_DIGITS}g}"


def capitalised(text: str) -> str:
    """First letter upper case, the rest untouched ('tiny fails' -> 'Tiny fails')."""
    return text[:1].upper() + text[1:]
