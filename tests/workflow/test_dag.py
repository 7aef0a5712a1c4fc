"""The DAG a config plans, checked by dry runs (no job runs)."""

import pytest

from tests.harness import planned_jobs, run_snakemake, write_config

pytestmark = pytest.mark.slow  # each dry run starts Snakemake (about 2 s)


@pytest.mark.parametrize(
    "seeds, block, train_jobs, probe_jobs",
    [
        ([0, 1], 10, 8, 3),  # quick: 2 activations x 2 optimizers x 2 depths, one block
        ([0, 1, 2, 3], 1, 32, 12),  # one job per seed (the cluster layout)
        ([0, 1, 2, 3, 4], 2, 24, 9),  # blocks 0-1, 2-3, 4
    ],
)
def test_jobs_per_rule(quick_config, tmp_path, seeds, block, train_jobs, probe_jobs):
    config = quick_config | {"seeds": seeds, "seed_block_size": block}
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
        "provenance": 1,
        "figures": 1,
        "report": 1,
        "all": 1,
    }


def test_default_study_fans_out_over_every_axis(repo, tmp_path):
    jobs = planned_jobs(tmp_path, repo / "config/config.yaml")
    # 2 activations x 2 optimizers x 4 depths, 10 seeds in one block; 3 probe activations
    assert jobs["train"] == 16 and jobs["probe"] == 3
    assert jobs["ablation"] == 2  # Exercise 2's cell and the ReLU match cell, one seed block


def test_lr_and_width_lists_are_job_axes(quick_config, tmp_path):
    """A list of learning rates or widths multiplies the jobs; the paths name the values."""
    config = quick_config | {"seeds": [0, 1]}
    config["training"] = config["training"] | {
        "optimizers": {"adam": [0.001, 0.01, 0.1], "sgd": 0.1},
        "width": [16, 64],
    }
    config["probe"] = config["probe"] | {"width": [16, 64]}
    jobs = planned_jobs(tmp_path, write_config(tmp_path, config))
    # 2 activations x (3 adam lrs + 1 sgd lr) x 2 widths x 2 depths; probe: 3 activations x 2 widths
    assert jobs["train"] == 32 and jobs["probe"] == 6


def test_adding_one_learning_rate_adds_only_its_jobs(quick_config, tmp_path):
    """With the study done, one more adam lr plans only that lr's train jobs (and what aggregates them)."""
    config = quick_config | {"seeds": [0]}
    config["training"] = config["training"] | {
        "optimizers": {"adam": [0.01, 0.1], "sgd": 0.1},
        "depths": [2],
        "steps": 5,
    }
    config["probe"] = config["probe"] | {"depths": [2]}
    run = run_snakemake(tmp_path, write_config(tmp_path, config), "--cores", "2", "results/tables/training.csv")
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "results/train/relu/adam/lr0.1/depth2/training_seeds_0.csv").exists()
    assert (tmp_path / "results/train/relu/sgd/depth2/training_seeds_0.csv").exists()  # one lr: today's path
    config["training"]["optimizers"]["adam"] = [0.01, 0.1, 1.0]
    jobs = planned_jobs(tmp_path, write_config(tmp_path, config), "results/tables/training.csv")
    # the new lr's job for each activation (relu, tanh), then the training table's aggregation, which
    # checks it against the new config (results/config.json, rule effective_config)
    assert jobs == {"train": 2, "aggregate": 1, "effective_config": 1}
