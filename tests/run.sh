#!/usr/bin/env bash
# The whole test suite from a fresh machine with Python 3.11: installs initlab with every extra,
# the system packages the tests use (as root: SLURM, munge, Chromium), then runs pytest.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -k lesson`.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[study,cluster,test]'
if [ "$(id -u)" = 0 ]; then
    bash tests/install_system.sh
else
    echo "tests/run.sh: not root, so no SLURM/Chromium install; their tests skip if these are missing" >&2
fi
exec python3 -m pytest "$@"
