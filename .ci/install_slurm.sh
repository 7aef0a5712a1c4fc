#!/usr/bin/env bash
# Install a single-node SLURM (Debian's slurm-wlm) and munge for the cluster tests.
# Idempotent: does nothing if the binaries are already present.
# Must run as root on Debian 12 (bookworm). Exits non-zero on failure.
set -euo pipefail

need=(slurmctld slurmd sbatch squeue sinfo scontrol munged)

all_present() {
    local b
    for b in "${need[@]}"; do
        command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || return 1
    done
    return 0
}

if all_present; then
    echo "install_slurm: slurm-wlm and munge already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install_slurm: must run as root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Do not let package post-install scripts try to start services (no systemd here).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update -q
apt-get install -y -q --no-install-recommends slurm-wlm munge

if ! all_present; then
    echo "install_slurm: binaries still missing after install" >&2
    exit 1
fi
echo "install_slurm: installed $(slurmctld -V 2>/dev/null || echo slurm)"
