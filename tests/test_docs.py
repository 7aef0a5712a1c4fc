"""The documentation a user reads, and the project's papers.

The docs site builds with ``mkdocs build --strict`` (a broken link or a page missing from the nav
fails); its configuration page lists every key of the schema and its tables page every column of
``TABLES``; the README is short and every link in it resolves; every command the docs show is one
a test runs (or copied from one); the license, citation, changelog, version flag, ``py.typed`` and
the workflow catalog's files are what their ecosystems expect.
"""

from __future__ import annotations

import html
import importlib.metadata
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
import yaml

import initlab
from initlab.study.tables import TABLES
from tests import harness
from tests.harness import REPO, SCHEMA

DOCS = REPO / "docs"
README = REPO / "README.md"
#: The README is the front page; the rest is in the docs site.
README_MAX_LINES = 200
#: Pages holding commands a reader copies: the README, the docs, the catalog's config notes.
COMMAND_PAGES = (README, REPO / "config/README.md", *sorted(DOCS.rglob("*.md")))


def _hooks():
    """docs/hooks.py, the generator of the configuration and tables references."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mkdocs_env() -> dict[str, str]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])])
    return env


# ---------------------------------------------------------------------------------------------
# the site


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The docs site, built once with --strict (about 3 s)."""
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run(
        [*harness.python_tool("mkdocs"), "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        env=_mkdocs_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return out


def _page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def test_site_builds_strict_with_every_page_of_the_nav(site):
    nav = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]

    def pages(entries):
        for entry in entries:
            for value in entry.values():
                yield from pages(value) if isinstance(value, list) else [value]

    listed = set(pages(nav))
    written = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert listed == written, "every page in the nav, every nav entry a page"
    for page in listed:
        built = site / ("index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html")
        assert built.is_file(), page


def test_configuration_page_lists_every_schema_key(site):
    hooks = _hooks()
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    keys = [path for path, _ in hooks.config_keys(schema)]
    page = _page(site, "configuration")
    assert {"seeds", "training.optimizers.sgd", "ablations[].init_a", "custom_inits.<name>.kind"} <= set(keys)
    for key in keys:
        assert f"<code>{html.escape(key, quote=False)}</code>" in page, key
    assert "<!-- config-reference -->" not in page


def test_every_schema_key_has_a_description():
    hooks = _hooks()
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    thin = [path for path, node in hooks.config_keys(schema) if not node.get("description", "").strip()]
    assert thin == [], "describe these keys in workflow/schemas/config.schema.yaml"


def test_configuration_reference_follows_the_schema():
    """Add a key to a schema and the reference shows it, with its default and limit."""
    hooks = _hooks()
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    schema["properties"]["training"]["properties"]["momentum"] = {
        "description": "A key only this test has.",
        "type": "number",
        "minimum": 0,
        "default": 0.9,
    }
    text = hooks.config_reference(schema)
    assert "| `training.momentum` | number (>= 0) | `0.9` | A key only this test has. |" in text


def test_tables_page_lists_every_table_and_column(site):
    page = _page(site, "tables")
    for table in TABLES:
        assert f'id="{table.name}"' in page, table.name
        for column in table.columns:
            assert f"<code>{column}</code>" in page, f"{table.name}.{column}"


def test_tables_reference_refuses_an_undescribed_or_unknown_column():
    hooks = _hooks()
    text = yaml.safe_load((DOCS / "tables.yml").read_text(encoding="utf-8"))
    hooks.tables_reference(text)  # complete: renders
    del text["training"]["columns"]["val_acc"]
    text["curves"]["columns"]["velocity"] = "No table has it."
    with pytest.raises(ValueError) as err:
        hooks.tables_reference(text)
    assert "training.val_acc: no description" in str(err.value)
    assert "curves.velocity: described in docs/tables.yml but not a column" in str(err.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mkdocs_serve_serves_the_site():
    """`mkdocs serve`, as docs/development.md says (on a free port): the home page comes back."""
    port = _free_port()
    server = subprocess.Popen(
        [*harness.python_tool("mkdocs"), "serve", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=REPO,
        env=_mkdocs_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline, page = time.monotonic() + 300, None  # a hang guard on a loaded machine, not a bound
        while page is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                    page = reply.read().decode("utf-8")
            except OSError:
                time.sleep(0.5)
        assert page is not None, server.stderr.read().decode()[-2000:] if server.poll() is not None else "no reply"
        assert "<title>initlab</title>" in page
    finally:
        server.terminate()
        server.wait(timeout=60)


# ---------------------------------------------------------------------------------------------
# the README and the commands the docs show


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; the rest belongs in docs/"


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub and MkDocs' toc make it (lower case, punctuation dropped)."""
    text = re.sub(r"[`*_]", "", heading.strip()).lower()
    return re.sub(r"\s+", "-", re.sub(r"[^\w\s-]", "", text))


def _links(markdown: str) -> list[str]:
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)  # links inside code are not links
    return re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", text)


def test_every_link_in_the_readme_resolves():
    links = _links(README.read_text(encoding="utf-8"))
    assert len(links) >= 15
    for link in links:
        assert "://" not in link, f"{link}: README links stay inside the repository, so they resolve offline"
        target, _, anchor = link.partition("#")
        path = (REPO / target).resolve() if target else README
        assert path.exists(), f"README.md links to {link}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), flags=re.M)
            assert anchor in {_slug(h) for h in headings}, f"README.md links to {link}: no such heading"


def test_the_slug_is_the_anchor_mkdocs_writes(site):
    assert _slug("After a failure, locally") == "after-a-failure-locally"
    assert 'id="after-a-failure-locally"' in _page(site, "verify")


def _documented_commands() -> dict[str, list[str]]:
    """Every command line in a bash block of the pages a reader copies from, and where it is."""
    commands: dict[str, list[str]] = {}
    for page in COMMAND_PAGES:
        for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.M | re.S):
            if lang not in ("bash", "sh", "shell", "console"):
                continue
            for line in body.replace("\\\n", " ").splitlines():
                line = re.sub(r"\s+", " ", re.sub(r"\s+#.*$", "", line.strip()))
                if line and not line.startswith("#"):
                    commands.setdefault(line, []).append(str(page.relative_to(REPO)))
    return commands


STUDY_TEST = "tests/workflow/test_study.py::test_report_is_made_and_its_place_printed"
SEED_TEST = "tests/workflow/test_study.py::test_adding_a_seed_runs_only_its_jobs"
SLURM_TEST = "tests/cluster/test_cluster_study.py::test_quick_study_on_slurm"
EXAMPLES_TEST = "tests/test_cli_inspect.py::test_the_examples"

#: Each command the docs show, and the test that runs it (``file::test``; the test may run it on
#: config/quick.yaml, with fewer cores or in a temporary folder) or the file whose text runs it
#: (``file:`` followed by the text). Benchmarks are not run by tests: their flags are checked below.
RUN_BY = {
    "pip install -e '.[study]' && snakemake --cores 8": STUDY_TEST,
    "bash tests/run.sh": ".ci/run:bash tests/run.sh",
    "snakemake --cores 2 --configfile config/quick.yaml": STUDY_TEST,
    "printf 'seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\\n' > more_seeds.yaml": SEED_TEST,
    "snakemake --cores 8 --configfile config/config.yaml more_seeds.yaml": SEED_TEST,
    "pip install -e '.[study,cluster]' && snakemake --workflow-profile workflow/profiles/slurm": (SLURM_TEST),
    "snakemake --workflow-profile workflow/profiles/slurm --default-resources slurm_partition=compute "
    "slurm_account=my_project": "tests/cluster/test_cluster_study.py::test_failed_group_job_is_retried",
    "initlab compare cluster/results local/results --require-identical": SLURM_TEST,
    'python -m pytest -m "not slow"': "tests/run.sh:python3 -m pytest",
    "python -m pytest -m slow": "tests/run.sh:python3 -m pytest",
    "python -m pytest tests -k lesson": "tests/run.sh:python3 -m pytest",
    "ruff check src tests benchmarks": "tests/test_lint.py::test_ruff_check",
    "ruff format --check src tests benchmarks": "tests/test_lint.py::test_ruff_format",
    "snakefmt --check Snakefile workflow/rules": "tests/test_lint.py::test_snakefmt",
    "snakemake --lint": "tests/workflow/test_study.py::test_lint_is_clean",
    "pip install -e '.[docs]'": "tests/run.sh:.[study,cluster,test,docs,lint]",
    "mkdocs serve": "tests/test_docs.py::test_mkdocs_serve_serves_the_site",
    "mkdocs build --strict --site-dir site": "tests/test_docs.py::test_site_builds_strict_with_every_page_of_the_nav",
    "initlab inspect examples/small_cnn.py:build --input-shape 64,3,32,32": (
        "tests/test_cli_inspect.py::test_the_example_end_to_end"
    ),
    "initlab verify results": "tests/study/test_manifest.py::test_verify_ok_and_missing_folder",
    "snakemake --cores 8 --configfile config/digits.yaml": (
        "tests/study/test_models.py::test_a_small_digits_study_runs_end_to_end_and_reruns_identically"
    ),
    "initlab inspect examples/resnet.py:build --input-shape 8,3,16,16": EXAMPLES_TEST,
    "initlab inspect examples/resnet.py:build_zero_branch --input-shape 8,3,16,16": EXAMPLES_TEST,
    "initlab inspect examples/transformer.py:build --input-shape 8,16,32": EXAMPLES_TEST,
}


def test_every_documented_command_is_run_by_a_test():
    commands = _documented_commands()
    assert "bash tests/run.sh" in commands
    for command, pages in commands.items():
        if command.startswith("python benchmarks/"):
            continue
        assert command in RUN_BY, f"{command!r} (in {', '.join(pages)}) is not a command a test runs"
    for where in RUN_BY.values():
        if "::" in where:
            file, test = where.split("::")
            assert re.search(rf"^def {test}\(", (REPO / file).read_text(encoding="utf-8"), flags=re.M), where
        else:
            file, _, text = where.partition(":")
            assert text in (REPO / file).read_text(encoding="utf-8"), where


def test_documented_benchmark_commands_take_the_flags_shown():
    benchmarks = [c for c in _documented_commands() if c.startswith("python benchmarks/")]
    assert len(benchmarks) >= 5
    for command in benchmarks:
        script, *args = command.split()[1:]
        source = (REPO / script).read_text(encoding="utf-8")
        for flag in (a for a in args if a.startswith("--")):
            assert f'"{flag}"' in source, f"{command}: {script} has no {flag}"


def test_docs_describe_the_present():
    """History goes to CHANGELOG.md and commit messages, not to the pages a user reads."""
    for page in COMMAND_PAGES:
        found = re.findall(r"\bissues? ?#?\d+\b", page.read_text(encoding="utf-8"), flags=re.I)
        assert not found, f"{page.relative_to(REPO)} mentions {found}"


@pytest.mark.slow
def test_screenshot_script_writes_one_screen(quick_study, chromium, tmp_path):
    from PIL import Image

    out = tmp_path / "shot.png"
    run = subprocess.run(
        [sys.executable, str(DOCS / "screenshot.py"), str(quick_study.results / "report.html"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    image = Image.open(out)
    assert image.size == (1280, 800)
    lo, hi = image.convert("L").getextrema()
    assert hi - lo > 100  # text, not a blank page


# ---------------------------------------------------------------------------------------------
# the papers


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_flag_prints_the_package_version():
    run = subprocess.run(
        [sys.executable, "-m", "initlab", "--version"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=_mkdocs_env(),
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"initlab {initlab.__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", initlab.__version__)
    assert _pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "initlab.__version__"}
    assert importlib.metadata.version("initlab") == initlab.__version__


def test_license_is_mit():
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) ")
    assert "Permission is hereby granted, free of charge, to any person obtaining a copy" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
    project = _pyproject()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]


def test_citation_is_valid_and_names_this_version():
    run = subprocess.run(
        [harness.cffconvert(), "--validate", "-i", str(REPO / "CITATION.cff")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(citation["version"]) == initlab.__version__ and citation["license"] == "MIT"


#: Keep a Changelog's kinds of change.
CHANGE_KINDS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def test_changelog_keeps_a_changelog():
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n") and "Keep a Changelog" in text
    versions = re.findall(r"^## \[([^\]]+)\](.*)$", text, flags=re.M)
    assert versions[0] == ("Unreleased", "")
    releases = versions[1:]
    assert releases, "at least one release"
    for version, rest in releases:
        assert re.fullmatch(r"\d+\.\d+\.\d+", version) and re.fullmatch(r" - \d{4}-\d{2}-\d{2}", rest), version
    keys = [tuple(int(p) for p in v.split(".")) for v, _ in releases]
    assert keys == sorted(keys, reverse=True), "newest release first"
    assert [d for _, d in releases] == sorted((d for _, d in releases), reverse=True)
    assert releases[0][0] == initlab.__version__, "the latest release is the package's version"
    for kind in re.findall(r"^### (.+)$", text, flags=re.M):
        assert kind in CHANGE_KINDS, kind


def test_package_ships_its_type_hints():
    assert (REPO / "src/initlab/py.typed").is_file()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["initlab"]


def test_workflow_catalog_files():
    """The Snakemake workflow catalog's usage file and its configuration notes (config/README.md)."""
    catalog = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text(encoding="utf-8"))
    usage = catalog["usage"]
    assert set(usage) == {"mandatory-flags", "software-stack-deployment", "report"}
    assert set(usage["mandatory-flags"]) == {"desc", "flags"} and usage["mandatory-flags"]["desc"].strip()
    assert set(usage["software-stack-deployment"]) == {"conda", "apptainer", "apptainer+conda"}
    assert all(isinstance(v, bool) for v in usage["software-stack-deployment"].values())
    assert usage["report"] is True  # tests/workflow/test_study.py runs `snakemake --report`
    conda = usage["software-stack-deployment"]["conda"]
    rules = "".join(p.read_text(encoding="utf-8") for p in (REPO / "workflow/rules").glob("*.smk"))
    assert conda == ('"../../environment.yml"' in rules)
    assert (REPO / "Snakefile").is_file()
    notes = (REPO / "config/README.md").read_text(encoding="utf-8")
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    for key in schema["properties"]:
        assert f"| `{key}` |" in notes, f"config/README.md does not list {key}"
