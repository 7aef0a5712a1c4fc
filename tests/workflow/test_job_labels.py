"""Every job's name is unique, so a study whose jobs differ in one field only still reports."""

import pandas as pd
import pytest

from tests.harness import run_snakemake, write_config

pytestmark = pytest.mark.slow

ABLATION = {
    "init_a": "xavier",
    "init_b": "he",
    "activation": "tanh",
    "depth": 1,
    "width": 8,
    "optimizer": "adam",
    "lr": 0.01,
    "steps": 5,
}


def test_ablations_that_differ_only_in_lr_run_to_their_tables(tmp_path, quick_config):
    config = quick_config | {
        "seeds": [0],
        "probe": {"activations": ["relu"], "depths": [2], "width": 8},
        "training": {
            "activations": ["tanh"],
            "depths": [1],
            "width": 8,
            "optimizers": {"adam": 0.01},
            "steps": 5,
            "curve_stride": 5,
        },
        "ablations": [ABLATION, ABLATION | {"lr": 0.001}],
    }
    path = write_config(tmp_path, config)
    run = run_snakemake(tmp_path, path, "--cores", "2", "results/timings.csv", "results/tables/ablation.csv")
    assert run.returncode == 0, run.stderr[-3000:]
    timings = pd.read_csv(tmp_path / "results/timings.csv")
    ablation_jobs = timings[timings.job.str.startswith("ablation/")].job
    assert len(ablation_jobs) == 2 and ablation_jobs.is_unique
    ablation = pd.read_csv(tmp_path / "results/tables/ablation.csv")
    assert sorted(ablation.lr.unique()) == [0.001, 0.01]
