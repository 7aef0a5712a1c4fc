"""environment.yml and pyproject.toml must pin the same packages at the same versions."""

import tomllib

import yaml


def _pyproject_pins(repo) -> dict[str, str]:
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs.extend(extra)
    pins = {}
    for spec in specs:
        name, sep, version = spec.partition("==")
        assert sep, f"pyproject.toml: {spec!r} is not an exact pin"
        pins[name.lower()] = version
    return pins


def _environment_pins(repo) -> dict[str, str]:
    env = yaml.safe_load((repo / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = {}
    for spec in pip:
        if spec.startswith("-"):
            continue
        name, sep, version = spec.partition("==")
        assert sep, f"environment.yml: {spec!r} is not an exact pin"
        pins[name.lower()] = version
    return pins


def test_environment_equals_pyproject_pins(repo):
    assert _environment_pins(repo) == _pyproject_pins(repo)


def test_environment_installs_initlab_and_python_311(repo):
    env = yaml.safe_load((repo / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "--editable ." in pip


def test_installed_versions_are_the_pinned_ones(repo):
    from importlib.metadata import version

    for name, pinned in _pyproject_pins(repo).items():
        assert version(name).split("+")[0] == pinned, name
