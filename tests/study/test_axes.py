"""Job axes from the config: list-valued learning rates and widths name their jobs' paths;
one value keeps today's path."""

from initlab.study.axes import as_list, lookup_lr, lookup_width, lr_dir, lr_label, probe_cells, train_cells

TRAINING = {
    "activations": ["relu"],
    "depths": [2, 4],
    "width": 64,
    "optimizers": {"adam": [0.001, 0.01], "sgd": 0.1},
}


def test_as_list():
    assert as_list(3) == [3] and as_list([1, 2]) == [1, 2]


def test_one_value_adds_no_path_segment_a_list_does():
    cells = train_cells(TRAINING)
    assert len(cells) == (2 + 1) * 2
    sgd = [c for c in cells if c["optimizer"] == "sgd"]
    assert {c["lrdir"] for c in sgd} == {""} and {c["widthdir"] for c in cells} == {""}
    adam = {c["lrdir"] for c in cells if c["optimizer"] == "adam"}
    assert adam == {"/lr0.001", "/lr0.01"}


def test_widths_list_is_an_axis_and_paths_map_back():
    training = TRAINING | {"width": [16, 256]}
    cells = train_cells(training)
    assert {c["widthdir"] for c in cells} == {"/width16", "/width256"}
    for c in cells:
        assert lookup_width(training, c["widthdir"]) == c["width"]
        assert lookup_lr(training, c["optimizer"], c["lrdir"]) == c["lr"]
    probe = {"activations": ["relu", "tanh"], "width": [16, 128]}
    assert [(c["activation"], c["widthdir"]) for c in probe_cells(probe)] == [
        ("relu", "/width16"), ("relu", "/width128"), ("tanh", "/width16"), ("tanh", "/width128"),
    ]
    assert probe_cells({"activations": ["relu"], "width": 128})[0]["widthdir"] == ""


def test_lr_labels_round_trip():
    for lr in (0.001, 1e-05, 0.3, 1, 2.5e-4):
        assert float(lr_label(lr)) == lr
    assert lr_dir([0.1], 0.1) == "" and lr_dir([0.1, 1], 1) == "/lr1.0"
