"""Readable config errors: one sentence naming the key, the bad value and what is allowed.

``snakemake.utils.validate`` raises jsonschema's own error, a multi-line dump of the schema;
the workflow turns it into one line with ``explain_validation_error`` before any job runs.
Pure Python (no torch), because the workflow calls it while building the DAG.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jsonschema


def key_path(error: jsonschema.ValidationError) -> str:
    """The config key of an error as written in YAML terms: ``training.optimizers.adam``, ``seeds[2]``."""
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _allowed(error: jsonschema.ValidationError) -> str:
    schema: dict[str, Any] = error.schema  # type: ignore[assignment]
    v = error.validator
    rules: dict[str, Callable[[], str]] = {
        "enum": lambda: "one of " + ", ".join(map(str, schema["enum"])),
        "type": lambda: (
            "a value of type "
            + (" or ".join(schema["type"]) if isinstance(schema["type"], list) else str(schema["type"]))
        ),
        "minimum": lambda: f"a number >= {schema['minimum']}",
        "exclusiveMinimum": lambda: f"a number > {schema['exclusiveMinimum']}",
        "maximum": lambda: f"a number <= {schema['maximum']}",
        "exclusiveMaximum": lambda: f"a number < {schema['exclusiveMaximum']}",
        "minItems": lambda: f"a list of at least {schema['minItems']} item(s)",
        "minProperties": lambda: f"at least {schema['minProperties']} entry(ies)",
        "uniqueItems": lambda: "a list without repeated items",
        "pattern": lambda: f"a text matching {schema['pattern']}",
        "additionalProperties": lambda: "only the keys " + ", ".join(sorted(schema.get("properties", {}))),
        "required": lambda: "an entry with the keys " + ", ".join(schema["required"]),
    }
    return rules[v]() if v in rules else error.message


def explain(error: jsonschema.ValidationError) -> str:
    """One line: the key, the bad value, what is allowed."""
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))  # type: ignore[union-attr]
        extra = sorted(set(error.instance) - known)
        where = key_path(error)
        return f"invalid config: unknown key(s) {', '.join(map(repr, extra))} in {where}; allowed: {_allowed(error)}"
    message = f"invalid config: {key_path(error)} = {error.instance!r} is not allowed; expected {_allowed(error)}"
    if error.validator == "type" and isinstance(error.instance, str) and len(error.absolute_path) > 1:
        # Snakemake's --config reads list items as text (YAML BaseLoader): say so.
        message += " (--config passes list items as text: put lists in a --configfile)"
    return message


def explain_validation_error(err: BaseException) -> str:
    """Find the jsonschema error behind Snakemake's WorkflowError and explain it; else the text.

    Snakemake keeps only the error's text in its own message, but raises it while handling the
    original, so the original is the WorkflowError's ``__context__``.
    """
    pending: list[BaseException] = [err]
    while pending:
        e = pending.pop()
        if isinstance(e, jsonschema.ValidationError):
            return explain(e)
        pending.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
        pending.extend(c for c in (e.__cause__, e.__context__) if c is not None)
    return str(err)


def check_study(config: Mapping[str, Any]) -> None:
    """What the schema cannot say, checked after it (defaults filled in): ``custom_inits``
    definitions (see :func:`initlab.engine.initspec.parse_custom_init`), every name in ``inits``
    a built-in or a custom init, and every configured model and data set usable
    (:func:`initlab.study.models.check_models`, which builds each model once: give it the config
    with its paths resolved, ``initlab.study.models.resolve_paths``). Raises ``ValueError`` with
    one line: ``invalid config: ...``.
    """
    from initlab.engine.initspec import BUILTIN_SPECS, parse_custom_inits  # pure Python, no torch

    try:
        custom = parse_custom_inits(config.get("custom_inits"))
    except ValueError as err:
        raise ValueError(f"invalid config: {err}") from None
    known = [*BUILTIN_SPECS, *custom]
    hint = "" if custom else " (or a name defined in custom_inits)"
    named = [(f"inits[{i}]", name) for i, name in enumerate(config.get("inits", []))]
    named += [
        (f"ablations[{i}].{side}", entry[side])
        for i, entry in enumerate(config.get("ablations", []))
        for side in ("init_a", "init_b")
        if side in entry
    ]
    for key, name in named:
        if name not in known:
            raise ValueError(
                f"invalid config: {key} = {name!r} is not allowed; expected one of {', '.join(known)}{hint}"
            )
    if config.get("models") or config.get("datasets"):
        from initlab.study.models import check_models

        check_models(config)
