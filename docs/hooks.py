"""MkDocs hooks: the references that are generated, so each fact is written once, where it lives.

- ``<!-- config-reference -->`` in a page becomes the configuration reference, rendered from
  ``workflow/schemas/config.schema.yaml`` (the descriptions, defaults and limits the study is
  validated against).
- ``<!-- tables-reference -->`` becomes the tables' reference: the columns of every table from
  ``initlab.study.tables.TABLES`` and what each column holds from ``docs/tables.yml``. A column
  without a description, or a description of a column no table has, fails the build.
- ``<!-- methods-reference -->`` becomes the seed statistics' methods with their measured
  calibration, from ``initlab.report.stats.METHODS`` (what the report's criteria and the compare
  page render too).

The hooks read this checkout (``src/`` first on the path), not an installed copy.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
TABLE_TEXT = Path(__file__).with_name("tables.yml")
CONFIG_MARK = "<!-- config-reference -->"
TABLES_MARK = "<!-- tables-reference -->"
METHODS_MARK = "<!-- methods-reference -->"

if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))


# ---------------------------------------------------------------------------------------------
# the configuration reference


def _resolve(node: dict, schema: dict) -> dict:
    """``node`` with a local ``$ref`` (``#/properties/...``) merged in (the node's own keys win)."""
    ref = node.get("$ref")
    if not ref:
        return node
    target = schema
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**_resolve(target, schema), **{k: v for k, v in node.items() if k != "$ref"}}


def _code(value: object) -> str:
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _kind(node: dict) -> str:
    """The value's type in a reader's words: 'integer', 'list of integer', 'one of relu, tanh'."""
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    kinds = node.get("type", "object")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    words = []
    for kind in kinds:
        if kind == "array":
            items = node.get("items", {})
            words.append("list of " + (_kind(items) if items else "values"))
        else:
            words.append(kind)
    return " or ".join(words)


def _limits(node: dict) -> str:
    """Bounds and list rules, as short phrases."""
    return "; ".join(_limit_phrases(node))


def _limit_phrases(node: dict) -> list[str]:
    out = []
    for key, text in (
        ("minimum", ">= {}"),
        ("exclusiveMinimum", "> {}"),
        ("maximum", "<= {}"),
        ("exclusiveMaximum", "< {}"),
        ("minItems", "at least {} item(s)"),
        ("minProperties", "at least {} entry"),
    ):
        if key in node:
            out.append(text.format(node[key]))
    if node.get("uniqueItems"):
        out.append("no repeats")
    items = node.get("items")
    if isinstance(items, dict) and items:
        out += [f"each {phrase}" for phrase in _limit_phrases(items)]
    return out


def config_keys(schema: dict) -> list[tuple[str, dict]]:
    """Every key of the schema as (dotted name, resolved node), parents before children.

    List items of objects (``ablations``) appear as ``ablations[].field``; ``custom_inits``'
    free names as ``custom_inits.<name>``.
    """
    keys: list[tuple[str, dict]] = []

    def walk(prefix: str, node: dict) -> None:
        node = _resolve(node, schema)
        for name, child in node.get("properties", {}).items():
            child = _resolve(child, schema)
            if name in node.get("required", ()):
                child = {**child, "required_key": True}
            path = f"{prefix}{name}"
            keys.append((path, child))
            walk(f"{path}.", child)
            items = child.get("items")
            if isinstance(items, dict) and "properties" in _resolve(items, schema):
                walk(f"{path}[].", items)
            extra = child.get("additionalProperties")
            if isinstance(extra, dict) and "properties" in extra:
                keys.append((f"{path}.<name>", extra))
                walk(f"{path}.<name>.", extra)

    walk("", schema)
    return keys


def config_reference(schema: dict) -> str:
    """The configuration reference as Markdown: one section per top-level key, a row per key."""
    lines: list[str] = []
    keys = config_keys(schema)
    for path, node in keys:
        meaning = _text(node.get("description", ""))
        if "." not in path and "[" not in path:
            lines += ["", f"### `{path}`", ""]
            if any(other.startswith((f"{path}.", f"{path}[")) for other, _ in keys):
                lines += [meaning, ""]  # a section: its text once, above the table of its keys
                meaning = "the section itself"
            lines += ["| key | value | default | meaning |", "|---|---|---|---|"]
        default = _code(node["default"]) if "default" in node else ("required" if node.get("required_key") else "")
        if path == "ablations":
            default = "two cells, below"
        limits = _limits(node)
        value = _kind(node) + (f" ({limits})" if limits else "")
        lines.append(f"| `{path}` | {value} | {default} | {meaning} |")
    ablations = schema["properties"]["ablations"].get("default")
    if ablations:
        lines += [
            "",
            "The default `ablations`:",
            "",
            "```yaml",
            yaml.safe_dump({"ablations": ablations}, default_flow_style=None, sort_keys=False, width=200).rstrip(),
            "```",
        ]
    return "\n".join(lines)


def _text(description: str) -> str:
    return " ".join(description.split()).replace("|", "\\|")


# ---------------------------------------------------------------------------------------------
# the tables' reference


def tables_reference(text: dict) -> str:
    """Every table of ``TABLES``: what it is, its columns (key or value) and what each holds."""
    from initlab.study.tables import TABLES

    problems = []
    lines: list[str] = []
    for table in TABLES:
        about = text.get(table.name)
        if about is None:
            problems.append(f"table {table.name}: no entry in docs/tables.yml")
            continue
        columns = about.get("columns", {})
        missing = [c for c in table.columns if c not in columns]
        extra = [c for c in columns if c not in table.columns]
        problems += [f"{table.name}.{c}: no description in docs/tables.yml" for c in missing]
        problems += [f"{table.name}.{c}: described in docs/tables.yml but not a column of the table" for c in extra]
        file = f"results/{table.name}.csv" if not table.reproducible else f"results/tables/{table.name}.csv"
        made = (
            f"concatenated from the `{table.kind}` jobs' files by rule `aggregate`"
            if table.kind
            else f"written by rule `{table.rule}`"
        )
        facts = [f"`{file}`, {made}"]
        facts.append(
            "reproducible: two runs give the same bytes"
            if table.reproducible
            else "not reproducible (wall-clock readings); never compared"
        )
        if table.optional:
            facts.append("present only when the config makes it")
        lines += ["", f"### `{table.name}`", "", _text(about["about"]), "", "; ".join(facts) + ".", ""]
        lines += ["| column | | holds |", "|---|---|---|"]
        for column in table.columns:
            role = "key" if column in table.keys else ("flag" if column in table.flags else "value")
            lines.append(f"| `{column}` | {role} | {_text(columns.get(column, ''))} |")
    if problems:
        raise ValueError("docs/tables.yml does not match initlab.study.tables.TABLES:\n  " + "\n  ".join(problems))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# the hook


def methods_reference() -> str:
    """A table of ``stats.METHODS``: what each answers, the method, its measured calibration."""
    from initlab.report.stats import METHODS

    lines = ["| question | method | measured |", "|---|---|---|"]
    for m in METHODS.values():
        lines.append(f"| {m.name} | {m.description} | {m.measured} |")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:
    """MkDocs calls this for every page (its signature is MkDocs'): the marks become the references."""
    if CONFIG_MARK in markdown:
        schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
        markdown = markdown.replace(CONFIG_MARK, config_reference(schema))
    if TABLES_MARK in markdown:
        text = yaml.safe_load(TABLE_TEXT.read_text(encoding="utf-8"))
        markdown = markdown.replace(TABLES_MARK, tables_reference(text))
    if METHODS_MARK in markdown:
        markdown = markdown.replace(METHODS_MARK, methods_reference())
    return markdown


#: Sphinx roles the docstrings use (``:func:`inspect```): in the API reference the name's code
#: formatting is enough.
SPHINX_ROLE = re.compile(r":(?:func|class|data|attr|meth|mod|exc|obj):(?=<code>)")


def on_page_content(html: str, page, config, files) -> str:
    """MkDocs calls this with each page's HTML: drop the Sphinx role prefixes before code names."""
    return SPHINX_ROLE.sub("", html)
