"""The DAG a config plans, checked by dry runs (no job runs)."""

import pytest

from tests.workflow.helpers import planned_jobs, quick_config, write_config


@pytest.mark.parametrize(
    "seeds, block, train_jobs, probe_jobs",
    [
        ([0, 1], 10, 8, 3),  # quick: 2 activations x 2 optimizers x 2 depths, one block
        ([0, 1, 2, 3], 1, 32, 12),  # one job per seed (the cluster layout)
        ([0, 1, 2, 3, 4], 2, 24, 9),  # blocks 0-1, 2-3, 4
    ],
)
def test_jobs_per_rule(tmp_path, seeds, block, train_jobs, probe_jobs):
    config = quick_config() | {"seeds": seeds, "seed_block_size": block}
    jobs = planned_jobs(tmp_path, write_config(tmp_path, config))
    assert jobs == {
        "dataset": 1,
        "lab_replay": 1,
        "probe": probe_jobs,
        "train": train_jobs,
        "ablation": probe_jobs // 3 * 2,  # the 2 default ablations x seed blocks
        "aggregate": 4,
        "aggregate_timings": 1,
        "effective_config": 1,
        "theory": 1,
        "theory_start": 1,
        "manifest": 1,
        "figures": 1,
        "report": 1,
        "all": 1,
    }


def test_default_study_fans_out_over_every_axis(repo, tmp_path):
    jobs = planned_jobs(tmp_path, repo / "config/config.yaml")
    # 2 activations x 2 optimizers x 4 depths, 10 seeds in one block; 3 probe activations
    assert jobs["train"] == 16 and jobs["probe"] == 3
    assert jobs["ablation"] == 2  # Exercise 2's cell and the ReLU match cell, one seed block
