import pytest

from tests.workflow.helpers import quick_config, snakemake, write_config


@pytest.fixture(scope="session")
def study(tmp_path_factory):
    """config/quick.yaml run once through the whole workflow: (folder, config path, run)."""
    folder = tmp_path_factory.mktemp("study")
    config = write_config(folder, quick_config())
    run = snakemake(folder, config, "--cores", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    return folder, config, run
