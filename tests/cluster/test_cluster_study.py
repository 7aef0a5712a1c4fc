"""The study on a real SLURM (a local single-node cluster) through workflow/profiles/slurm.

* ``test_quick_study_on_slurm``: config/quick.yaml with one seed per job. Every non-local job
  runs inside a SLURM job, grouping cuts the submissions to the number the profile promises,
  the four tables are byte-identical to a plain local run, and the report is made.
* ``test_failed_group_job_is_retried``: a job that fails on its first attempt
  (tests/cluster/faults.smk) is resubmitted with the attempt-scaled resources, and the run
  completes.
* ``test_interrupted_run_resumes``: SIGINT (Ctrl-C) while a SLURM job runs; snakemake cancels
  it, and the same command finishes the study, resubmitting only what was not done.
* ``test_killed_run_resumes_after_unlock``: snakemake and its running SLURM job killed outright
  (a lost login session, a crashed node): a half-written output and a stale lock stay behind;
  ``--unlock``, then the same command redoes the output (the profile's rerun-incomplete).

The failure paths use a one-seed, one-cell study: each SLURM job costs seconds here, most of it
snakemake start-up and the plugin's status polling.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.harness import REPO, load_config, run_snakemake, snakemake_command, write_config

from .slurm import LocalSlurm, _parse_scontrol_line, clean_env, local_slurm

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

PROFILE = REPO / "workflow/profiles/slurm"
FAULTS = Path(__file__).with_name("faults.smk")
TABLES = ["signal_probe", "training", "curves", "lab_reproduction"]


def _local_rules(*files: Path) -> set[str]:
    """The rules the ``localrules:`` blocks of ``files`` name (read from the workflow, not restated)."""
    names: set[str] = set()
    for file in files:
        for block in re.findall(r"^localrules:\n((?:[ \t]+\w+,?\n)+)", file.read_text(encoding="utf-8"), flags=re.M):
            names.update(n.strip().rstrip(",") for n in block.splitlines() if n.strip())
    return names


# The workflow's local rules plus the test workflow's, and `all` (a target without a job of its own).
LOCAL_RULES = _local_rules(*sorted((REPO / "workflow/rules").glob("*.smk")), FAULTS) | {"all"}
#: Hang guards (seconds) for a snakemake run here: the quick study (about 2 minutes on a quiet
#: 2-core machine) and the one-cell study of the failure paths; past one, the run is interrupted
#: as Ctrl-C would (snakemake cancels its SLURM jobs) and the test fails.
QUICK_LIMIT_S = 1200
TINY_LIMIT_S = 900
#: How long the failure paths wait for the `hold` job to run (hang guard, seconds).
HOLD_TIMEOUT_S = 600

# A study small enough for the failure paths: one SLURM job each for lab_replay, probe, train
# (no ablations: the quick study above sends those through SLURM).
TINY = {
    "seeds": [0],
    "ablations": [],
    "inits": ["xavier", "he"],
    "probe": {"activations": ["tanh"], "depths": [2], "width": 16},
    "training": {
        "activations": ["relu"],
        "depths": [2],
        "width": 16,
        "optimizers": {"adam": 0.01},
        "steps": 20,
        "curve_stride": 10,
    },
}


# ---------------------------------------------------------------------------------------------
# running snakemake

#: The profile plus this test cluster's status settings.
CLUSTER_ARGS = (
    "--workflow-profile",
    str(PROFILE),
    # no accounting database here, so no sacct: ask squeue, and soon
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "1",
    # keep every SLURM job's log: they show which jobs ran inside SLURM
    "--slurm-keep-successful-logs",
)


def snakemake_cmd(
    folder: Path,
    config: Path,
    *args: str,
    snakefile: Path = REPO / "Snakefile",
    cluster: bool = True,
    limit: int = TINY_LIMIT_S,
) -> list[str]:
    """The command line (harness.snakemake_command), interrupted with SIGINT after ``limit``
    seconds; on the cluster: with :data:`CLUSTER_ARGS`."""
    return snakemake_command(
        folder, config, *args, *(CLUSTER_ARGS if cluster else ()), snakefile=snakefile, interrupt_after=limit
    )


def run(
    folder: Path,
    config: Path,
    *args: str,
    snakefile: Path = REPO / "Snakefile",
    cluster: bool = True,
    limit: int = TINY_LIMIT_S,
) -> subprocess.CompletedProcess:
    """:func:`snakemake_cmd` run to its end (harness.run_snakemake) with SLURM's variables cleared."""
    return run_snakemake(
        folder,
        config,
        *args,
        *(CLUSTER_ARGS if cluster else ()),
        snakefile=snakefile,
        interrupt_after=limit,
        env=clean_env(),
    )


def tail(proc: subprocess.CompletedProcess | str, n: int = 4000) -> str:
    text = proc if isinstance(proc, str) else proc.stdout + proc.stderr
    return text[-n:]


# ---------------------------------------------------------------------------------------------
# reading what happened


_RULE = re.compile(r"^\s*(localrule|rule) (\w+):\s*$")
_WILDCARDS = re.compile(r"^\s+wildcards: (.*)$")


def job_blocks(text: str) -> list[tuple[str, str, str]]:
    """(kind, rule, wildcards) for every job block snakemake printed (kind: rule/localrule)."""
    blocks: list[tuple[str, str, str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        m = _RULE.match(line)
        if m:
            current = [m[1], m[2], ""]
            blocks.append(current)  # type: ignore[arg-type]
            continue
        if current is not None:
            w = _WILDCARDS.match(line)
            if w:
                current[2] = w[1].strip()
            elif not re.match(r"^\s+\w+: ", line):
                current = None
    return [tuple(b) for b in blocks]  # type: ignore[misc]


def dry_run(folder: Path, config: Path, *targets: str, snakefile: Path = REPO / "Snakefile"):
    """Planned jobs {(rule, wildcards)} and the number of group jobs per group, with the profile."""
    proc = run(folder, config, *targets, "--dry-run", snakefile=snakefile)
    assert proc.returncode == 0, tail(proc)
    jobs = {(rule, wc) for _, rule, wc in job_blocks(proc.stdout)}
    groups = Counter(re.findall(r"Group job (\w+) \(jobs", proc.stdout))
    return jobs, groups


def profile() -> dict:
    return yaml.safe_load((PROFILE / "profile.yaml").read_text())


def expected_submissions(remote_jobs: set[tuple[str, str]]) -> int:
    """sbatch calls the profile's grouping should make: per group ceil(jobs / group-components)
    (the grouped jobs are independent of each other), plus one per ungrouped remote job."""
    prof = profile()
    per_rule = Counter(rule for rule, _ in remote_jobs)
    per_group: Counter[str] = Counter()
    ungrouped = 0
    for rule, n in per_rule.items():
        if rule in prof["groups"]:
            per_group[prof["groups"][rule]] += n
        else:
            ungrouped += n
    return ungrouped + sum(math.ceil(n / prof["group-components"][g]) for g, n in per_group.items())


def slurm_logs(folder: Path) -> dict[int, str]:
    """Every kept SLURM job log (``.snakemake/slurm_logs/<rule or group>/<jobid>.log``), by id."""
    return {
        int(p.stem): p.read_text(errors="replace")
        for p in (folder / ".snakemake/slurm_logs").rglob("*.log")
        if p.stem.isdigit()
    }


def jobs_inside_slurm(folder: Path) -> dict[int, set[tuple[str, str]]]:
    """The workflow jobs each SLURM job ran, from its log, by SLURM job id."""
    return {jid: {(rule, wc) for _, rule, wc in job_blocks(text)} for jid, text in slurm_logs(folder).items()}


def job_details(cluster: LocalSlurm, job_id: int) -> dict[str, str]:
    """``scontrol show job -o`` fields (TimeLimit, MinMemoryNode, JobState, ...)."""
    return _parse_scontrol_line(cluster.run("scontrol", "show", "job", "-o", str(job_id)).strip())


def minutes(time_limit: str) -> int:
    """SLURM's [D-]HH:MM:SS as minutes."""
    days, _, hms = time_limit.rpartition("-")
    h, m, s = (int(x) for x in hms.split(":"))
    return (int(days or 0) * 24 + h) * 60 + m + (s > 0)


def active_jobs(cluster: LocalSlurm) -> dict[int, str]:
    return {
        j: s
        for j, s in cluster.job_states().items()
        if s in ("PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED")
    }


# ---------------------------------------------------------------------------------------------
# the study


def test_quick_study_on_slurm(quick_study_run, slurm_cluster: LocalSlurm, tmp_path: Path) -> None:
    folder = tmp_path / "cluster"
    config = write_config(folder, load_config("quick.yaml") | {"seed_block_size": 1})
    # the reference: a plain local run of config/quick.yaml (its own seed_block_size: 10), the
    # session's quick study, on one core beside the cluster run, which leaves a core idle most
    # of the time (unless another test has made it already)
    quick_study_run.start(cores=1)
    check_cluster_study(slurm_cluster, folder, config)
    reference = quick_study_run.result()
    # (c) the same tables as the local run: `initlab compare --require-identical` exits 0 only when
    # every verdict is the same and every table is byte-identical; it names any differing table,
    # column and cell
    compared = subprocess.run(
        [
            sys.executable,
            "-m",
            "initlab",
            "compare",
            str(folder / "results"),
            str(reference.results),
            "--require-identical",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert compared.returncode == 0, compared.stdout + compared.stderr
    for table in TABLES:
        assert re.search(rf"^  {table} +identical \(byte for byte\)$", compared.stdout, re.M), compared.stdout


def check_cluster_study(slurm_cluster: LocalSlurm, folder: Path, config: Path) -> None:
    """The study through the profile: (a) every non-local job inside SLURM, (b) as few sbatch
    calls as the grouping promises, (d) the report."""
    planned, group_jobs = dry_run(folder, config)
    remote = {(rule, wc) for rule, wc in planned if rule not in LOCAL_RULES}
    expected = expected_submissions(remote)
    # quick.yaml, one seed per job: 16 train + 4 ablation + 6 probe + 1 lab_replay jobs would be
    # 27 sbatch calls; grouped (train and ablation: 8, probe: 10 per group) they are 3 + 1 + 1.
    assert len(remote) == 27
    assert expected == 5
    assert sum(group_jobs.values()) + sum(1 for r, _ in remote if r not in profile()["groups"]) == expected

    start = time.monotonic()
    proc = run(folder, config, limit=QUICK_LIMIT_S)
    cluster_seconds = time.monotonic() - start
    assert proc.returncode == 0, tail(proc) + "\n" + slurm_cluster.diagnostics()

    # (a) every non-local job ran inside a SLURM job, and only those ran locally
    submitted = slurm_cluster.submitted_jobs()
    inside = jobs_inside_slurm(folder)
    assert set(inside) == {j.job_id for j in submitted}, (inside.keys(), submitted)
    assert set().union(*inside.values()) == remote
    local = {(rule, wc) for kind, rule, wc in job_blocks(proc.stdout + proc.stderr) if kind == "localrule"}
    # every local rule of the plan ran here (a config without models has no model_dataset job)
    assert {rule for rule, _ in local} == {rule for rule, _ in planned} & LOCAL_RULES
    assert {"aggregate", "report", "provenance"} <= {rule for rule, _ in local}
    assert local | remote == planned and not local & remote

    # (b) grouping: one sbatch per group of up to group-components jobs
    assert len(submitted) == expected, submitted
    assert all(j.state == "COMPLETED" for j in submitted), submitted
    assert all(j.cpus == 1 for j in submitted), submitted
    components = profile()["group-components"]
    # a group job's comment is rule_<group>_<its rules>: the train group holds train and ablation
    # jobs, so which of its sbatch calls name "ablation" depends on how the 20 jobs were split
    comments = Counter(j.comment for j in submitted)
    train_groups = {c: n for c, n in comments.items() if c.startswith("rule_train_")}
    assert sum(train_groups.values()) == math.ceil((16 + 4) / components["train"]), comments  # 3 of up to 8
    assert set(train_groups) <= {"rule_train_train", "rule_train_ablation", "rule_train_ablation_train"}, comments
    assert {c: n for c, n in comments.items() if c not in train_groups} == {
        "rule_probe_probe": math.ceil(6 / components["probe"]),  # 1
        "rule_lab_replay": 1,
    }

    # (d) the report
    assert (folder / "results/report.html").is_file()

    print(
        f"\ncluster run {cluster_seconds:.0f} s: {len(submitted)} sbatch calls for "
        f"{len(remote)} SLURM-side jobs, {len(local)} local jobs"
    )


# ---------------------------------------------------------------------------------------------
# failure paths


def test_failed_group_job_is_retried(require_slurm, tmp_path: Path) -> None:
    """A group job that fails once is resubmitted (restart-times), asking for more, and the run
    completes. Also: a partition named on the command line, as a site would, is used (a second
    partition, not the default) and leaves the profile's per-rule resources alone."""
    folder = tmp_path / "retry"
    config = write_config(folder, TINY)
    assert profile()["restart-times"] >= 1
    partition = "PartitionName=study Nodes=ALL Default=NO MaxTime=INFINITE State=UP"
    with local_slurm(tmp_path / "slurm", extra_config=partition) as slurm_cluster:
        proc = run(folder, config, "all_with_flaky", "--default-resources", "slurm_partition=study", snakefile=FAULTS)
        assert proc.returncode == 0, tail(proc) + "\n" + slurm_cluster.diagnostics()
        check_retry(slurm_cluster, folder)


def check_retry(slurm_cluster: LocalSlurm, folder: Path) -> None:
    assert (folder / "results/report.html").is_file()
    assert (folder / "results/flaky.txt").read_text() == "second attempt\n"

    submitted = slurm_cluster.submitted_jobs()
    by_comment: dict[str, list] = {}
    for job in submitted:
        by_comment.setdefault(job.comment, []).append(job)
    # a group job's comment is rule_<group>_<its rules>
    assert {c: len(js) for c, js in by_comment.items()} == {
        "rule_lab_replay": 1,
        "rule_probe_probe": 1,
        "rule_train_flaky_train": 2,
    }, submitted
    first, second = sorted(by_comment["rule_train_flaky_train"], key=lambda j: j.job_id)
    assert (first.state, second.state) == ("FAILED", "COMPLETED")
    failed_in = (folder / "results/flaky.failed-once").read_text().split()[-1]
    assert int(failed_in) == first.job_id
    # the retry asks for the attempt-scaled resources of profile.yaml: the group's memory is its
    # biggest job's (train's), its time the sum of its jobs' (train's + flaky's 1 minute)
    train = profile()["set-resources"]["train"]
    for attempt, job in ((1, first), (2, second)):
        details = job_details(slurm_cluster, job.job_id)
        assert details["MinMemoryNode"] == f"{eval(train['mem_mb'], {'attempt': attempt})}M"
        assert minutes(details["TimeLimit"]) == eval(train["runtime"], {"attempt": attempt}) + 1
    assert {job_details(slurm_cluster, j.job_id)["Partition"] for j in submitted} == {"study"}


FINISHED = re.compile(r"Finished jobid: \d+ \(Rule: (\w+)\)")


def start_and_wait_for_hold(cmd: list[str], log: Path, folder: Path) -> tuple[subprocess.Popen, int]:
    """Start snakemake; return once a SLURM job has finished (and snakemake has seen it) and the
    `hold` job of faults.smk runs, with its output half written. Returns (process, hold's job id)."""
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True, env=clean_env())
    started = folder / "results/hold.started"
    deadline = time.monotonic() + HOLD_TIMEOUT_S
    while not (set(FINISHED.findall(log.read_text())) & {"lab_replay", "probe"} and started.exists()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail("snakemake ended, or no SLURM job finished in time:\n" + tail(log.read_text()))
        time.sleep(0.2)
    return proc, int(started.read_text())


def test_interrupted_run_resumes(slurm_cluster: LocalSlurm, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) while a SLURM job runs: snakemake cancels it; the same command finishes."""
    folder = tmp_path / "resume"
    config = write_config(folder, TINY)
    log = tmp_path / "first.log"

    first, hold_job = start_and_wait_for_hold(
        snakemake_cmd(folder, config, "all_with_hold", snakefile=FAULTS), log, folder
    )
    try:
        assert slurm_cluster.job_states([hold_job]) == {hold_job: "RUNNING"}
        first.send_signal(signal.SIGINT)  # to `timeout`, which passes it on to snakemake, once
        rc = first.wait(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    text = log.read_text()
    assert rc != 0, tail(text)
    assert "Terminating processes on user request" in text
    # snakemake cancelled its SLURM job on the way out (scancel: it ends within KillWait); the
    # study is not done
    assert slurm_cluster.wait_for_jobs([hold_job], timeout=120) == {hold_job: "CANCELLED"}
    assert active_jobs(slurm_cluster) == {}
    assert not (folder / "results/report.html").exists()
    done_before = {j.job_id for j in slurm_cluster.submitted_jobs()}
    finished_rules = set(FINISHED.findall(text))

    # the same command again (with `hold` released) finishes the study
    (folder / "results/release").touch()
    again = run(folder, config, "all_with_hold", snakefile=FAULTS)
    assert again.returncode == 0, tail(again) + "\n" + slurm_cluster.diagnostics()
    assert (folder / "results/report.html").is_file()
    assert (folder / "results/hold.txt").read_text() == "released\n"
    resumed = [j for j in slurm_cluster.submitted_jobs() if j.job_id not in done_before]
    # only what had not finished is submitted again: `hold` (as group "train", with the train job
    # too unless that had finished inside the cancelled group job), no finished rule's job
    assert any(j.comment in ("rule_train_hold", "rule_train_hold_train") for j in resumed), resumed
    for rule, comment in (("lab_replay", "rule_lab_replay"), ("probe", "rule_probe_probe")):
        if rule in finished_rules:
            assert comment not in {j.comment for j in resumed}, (rule, resumed)
    assert all(j.state == "COMPLETED" for j in resumed), resumed


def crash_job(job_id: int) -> int:
    """Kill every process of a SLURM job at once, as a node crash would: stop them all first, so
    that none (a snakemake inside the job) gets to clean up after the others. Returns how many."""
    marker = f"SLURM_JOB_ID={job_id}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
    return len(pids)


def test_killed_run_resumes_after_unlock(slurm_cluster: LocalSlurm, tmp_path: Path) -> None:
    """snakemake and its SLURM job killed outright (lost session, node crash): the output the job
    was writing stays half-written; after --unlock the same command redoes it (rerun-incomplete)."""
    folder = tmp_path / "killed"
    config = write_config(folder, TINY)
    log = tmp_path / "first.log"

    # no `timeout` in front, so the SIGKILL reaches snakemake itself
    first, hold_job = start_and_wait_for_hold(
        snakemake_cmd(folder, config, "all_with_hold", snakefile=FAULTS, limit=None), log, folder
    )
    first.kill()
    first.wait()
    assert crash_job(hold_job) > 0
    slurm_cluster.wait_for_jobs([hold_job], timeout=120)
    assert (folder / "results/hold.txt").read_text() == "half\n"

    # the killed run's lock stays: the same command refuses until --unlock
    locked = run(folder, config, "all_with_hold", snakefile=FAULTS)
    assert locked.returncode != 0 and "cannot be locked" in tail(locked), tail(locked)
    unlock = run(folder, config, "all_with_hold", "--unlock", snakefile=FAULTS)
    assert unlock.returncode == 0, tail(unlock)
    # without the profile's rerun-incomplete snakemake would refuse the half-written output
    plain = run(folder, config, "all_with_hold", "--dry-run", snakefile=FAULTS, cluster=False)
    assert plain.returncode != 0 and "IncompleteFilesException" in tail(plain), tail(plain)

    (folder / "results/release").touch()
    again = run(folder, config, "all_with_hold", snakefile=FAULTS)
    assert again.returncode == 0, tail(again) + "\n" + slurm_cluster.diagnostics()
    assert (folder / "results/hold.txt").read_text() == "released\n"
    assert (folder / "results/report.html").is_file()
