"""The study's jobs from the config: one grid, paths from list-valued axes, labels and JSON."""

import json

import pytest

from initlab.engine.cells import AblationCell, ProbeCell, TrainSpec
from initlab.study.axes import Job, as_list, jobs, lr_dir, lr_label, probe_cells, train_cells

CONFIG = {
    "seeds": [0, 1, 12],
    "seed_block_size": 10,
    "inits": ["he", "zeros"],
    "custom_inits": {},
    "probe": {"activations": ["relu", "tanh"], "depths": [2, 5], "width": 8},
    "training": {
        "activations": ["relu"],
        "depths": [2, 4],
        "width": 64,
        "optimizers": {"adam": [0.001, 0.01], "sgd": 0.1},
        "steps": 10,
        "curve_stride": 4,
    },
    "ablations": [],
}
ABLATION = {
    "init_a": "xavier",
    "init_b": "he",
    "activation": "tanh",
    "depth": 2,
    "width": 16,
    "optimizer": "adam",
    "lr": 0.01,
    "steps": 3,
}


def test_as_list():
    assert as_list(3) == [3] and as_list([1, 2]) == [1, 2]


def test_one_value_adds_no_path_segment_a_list_does():
    paths = [path for path, _ in train_cells(CONFIG)]
    assert len(paths) == (2 + 1) * 2
    assert [p for p in paths if "/sgd" in p] == ["relu/sgd/depth2", "relu/sgd/depth4"]
    assert {p.split("/")[2] for p in paths if "/adam" in p} == {"lr0.001", "lr0.01"}


def test_widths_list_is_an_axis_of_paths_and_cells():
    config = CONFIG | {
        "training": CONFIG["training"] | {"width": [16, 256]},
        "probe": CONFIG["probe"] | {"width": [16, 128]},
    }
    cells = train_cells(config)
    assert {(p.split("/")[-2], c.width) for p, c in cells if "/sgd/" in p} == {("width16", 16), ("width256", 256)}
    assert [(p, c.activation, c.width) for p, c in probe_cells(config)] == [
        ("relu/width16", "relu", 16),
        ("relu/width128", "relu", 128),
        ("tanh/width16", "tanh", 16),
        ("tanh/width128", "tanh", 128),
    ]
    assert probe_cells(CONFIG)[0] == ("relu", ProbeCell("relu", 8, (2, 5)))


def test_the_grid_holds_every_cell_once_per_seed_block():
    every = jobs(CONFIG)
    assert [len(jobs(CONFIG, kind)) for kind in ("probe", "train", "ablation")] == [2 * 2, 6 * 2, 0]
    assert len(every) == 4 + 12
    assert {j.seeds for j in every} == {(0, 1), (12,)}
    assert len({j.label for j in every}) == len(every)  # timings.csv keys on the label
    assert len({j.file(t) for j in every for t in ("training", "curves", "signal_probe")}) == 3 * len(every)
    train = jobs(CONFIG, "train")[0]
    assert train.cell == TrainSpec(2, 64, "relu", "adam", 0.001, 10, 4)
    assert train.file("training") == "results/train/relu/adam/lr0.001/depth2/training_seeds_0-1.csv"
    assert train.label == "train/relu/adam/lr0.001/depth2/seeds_0-1"


def test_ablations_that_differ_in_any_field_get_their_own_job_and_label():
    variants = [
        ABLATION,
        ABLATION | {"lr": 0.001},
        ABLATION | {"width": 32},
        ABLATION | {"steps": 4},
        ABLATION | {"lr": 0.010000001},
    ]
    config = CONFIG | {"ablations": variants}
    ablations = jobs(config, "ablation")
    assert len(ablations) == len(variants) * 2
    assert len({j.label for j in ablations}) == len(ablations)
    assert len({j.file("ablation") for j in ablations}) == len(ablations)
    assert ablations[0].cell == AblationCell(TrainSpec(2, 16, "tanh", "adam", 0.01, 3), "xavier", "he")


def test_a_job_travels_whole_as_json():
    custom = {"mine": {"kind": "normal", "std": 0.05}}
    for job in jobs(CONFIG | {"ablations": [ABLATION]}):
        again, inits = Job.from_json(job.to_json(custom))
        assert again == job and inits == custom


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not a job description"),
        (json.dumps({"kind": "nope"}), "not a job description"),
        (
            json.dumps(
                {
                    "kind": "probe",
                    "path": "relu",
                    "cell": {"activation": "relu", "width": 8, "depths": [2], "x": 1},
                    "inits": ["he"],
                    "seeds": "0",
                }
            ),
            r"unknown field\(s\) \['x'\]",
        ),
    ],
)
def test_a_bad_job_description_is_one_clear_error(text, message):
    with pytest.raises(ValueError, match=message):
        Job.from_json(text)


def test_lr_labels_round_trip():
    for lr in (0.001, 1e-05, 0.3, 1, 2.5e-4, 0.010000001):
        assert float(lr_label(lr)) == lr
    assert lr_dir([0.1], 0.1) == "" and lr_dir([0.1, 1], 1) == "/lr1.0"
