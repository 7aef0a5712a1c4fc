#!/usr/bin/env bash
# System packages the test suite uses for real: SLURM + munge (tests/cluster) and a headless
# Chromium (the report's browser check), from Debian's archive. Idempotent; needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/install_slurm.sh

if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
fi
