#!/usr/bin/env bash
# The whole test suite from a fresh machine with Python 3.11: installs initlab with every extra
# (the study, the cluster plugin, the tests, the docs site and the linters), cffconvert in a virtual
# environment of its own (.tools/cffconvert: it needs an older jsonschema than the study's), the
# system packages the tests use (as root: SLURM, munge, Chromium), then runs pytest.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -k lesson`.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[study,cluster,test,docs,lint]'
if [ ! -x .tools/cffconvert/bin/cffconvert ]; then
    python3 -m venv .tools/cffconvert
    .tools/cffconvert/bin/pip install --quiet --disable-pip-version-check -r tests/requirements-cffconvert.txt
fi
if [ "$(id -u)" = 0 ]; then
    bash tests/install_system.sh
else
    echo "tests/run.sh: not root, so no SLURM/Chromium install; their tests skip if these are missing" >&2
fi
exec python3 -m pytest "$@"
