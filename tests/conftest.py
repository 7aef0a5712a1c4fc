"""The suite's fixtures (tests/harness.py holds the plain helpers behind them).

* torch pinned to one thread (the lab timings and the byte-exact replays assume it);
* the lesson's data split (``moons``);
* the repository: ``repo``, ``schema_path``, ``default_config``, ``quick_config``;
* ``chromium``: the headless browser, skipped when missing unless INITLAB_REQUIRE_BROWSER=1;
* the studies run through the real workflow, once per session: ``quick_study``
  (config/quick.yaml) and ``other_seeds_study`` (the same on other seeds);
* the ``slow`` rule: a test that starts Snakemake or a browser, or uses a SLURM cluster or a
  study run, must be marked ``slow`` (``pytest -m "not slow"`` leaves it out); one that is not
  fails (here for the fixtures, in tests/harness.py for Snakemake and the browser).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import harness

# ---------------------------------------------------------------------------------------------
# the slow rule


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    harness.current.nodeid = item.nodeid
    harness.current.slow = item.get_closest_marker("slow") is not None
    unmarked = harness.unmarked_slow_fixtures(item)
    if unmarked:
        pytest.fail(
            f"{item.nodeid} uses {', '.join(sorted(unmarked))} but is not marked slow: add @pytest.mark.slow",
            pytrace=False,
        )


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    harness.current.nodeid = None
    harness.current.slow = True


# ---------------------------------------------------------------------------------------------
# the process and the repository


@pytest.fixture(scope="session", autouse=True)
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def moons():
    from initlab.engine.data import make_moons_split

    return make_moons_split()


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return harness.REPO


@pytest.fixture(scope="session")
def schema_path() -> str:
    """workflow/schemas/config.schema.yaml, as snakemake.utils.validate takes it."""
    return str(harness.SCHEMA)


@pytest.fixture
def default_config() -> dict:
    """config/config.yaml parsed (the test's own copy)."""
    return harness.load_config("config.yaml")


@pytest.fixture
def quick_config() -> dict:
    """config/quick.yaml parsed (the test's own copy)."""
    return harness.load_config("quick.yaml")


# ---------------------------------------------------------------------------------------------
# the browser


@pytest.fixture(scope="session")
def chromium() -> str:
    """The headless browser's path; skips (or, with INITLAB_REQUIRE_BROWSER=1, fails) without it."""
    if harness.CHROMIUM is None:
        if harness.browser_required():
            pytest.fail("chromium is required (INITLAB_REQUIRE_BROWSER=1) but not installed", pytrace=False)
        pytest.skip("chromium not installed (tests/install_system.sh installs it)")
    return harness.CHROMIUM


# ---------------------------------------------------------------------------------------------
# studies run through the real workflow, shared by the session: read them, never change them
# (harness.copy_study gives a test a copy to change)


def _study_run(tmp_path_factory: pytest.TempPathFactory, name: str, config: dict) -> harness.StudyRun:
    return harness.StudyRun(tmp_path_factory.mktemp(name), config, tmp_path_factory.mktemp(f"{name}_log"))


@pytest.fixture(scope="session")
def quick_study_run(tmp_path_factory):
    """config/quick.yaml through the whole workflow, not started yet (harness.StudyRun): a test
    that can start it early, beside its own work, asks for this; ``quick_study`` waits for it."""
    run = _study_run(tmp_path_factory, "quick_study", harness.load_config("quick.yaml"))
    yield run
    run.stop()


@pytest.fixture(scope="session")
def quick_study(quick_study_run) -> harness.Study:
    """config/quick.yaml run once through the whole workflow (report included)."""
    return quick_study_run.result()


@pytest.fixture(scope="session")
def other_seeds_study(tmp_path_factory) -> harness.Study:
    """config/quick.yaml on seeds 2 and 3, the whole workflow: a second real run to compare with."""
    config = harness.load_config("quick.yaml") | {"seeds": harness.OTHER_SEEDS}
    return _study_run(tmp_path_factory, "other_seeds_study", config).result()
