"""A real single-node SLURM cluster on localhost, for tests.

Starts ``munged``, ``slurmctld`` and ``slurmd`` (Debian's ``slurm-wlm`` 22.05
and ``munge``, installed by ``.ci/install_slurm.sh``) without systemd, as
children of the calling process, and stops them again::

    from pathlib import Path
    from tests.cluster.slurm import local_slurm, slurm_available

    if slurm_available():
        with local_slurm(Path("/tmp/x")) as cluster:
            job_id = cluster.sbatch_wrap("echo hi > /tmp/x/hi.txt")
            cluster.wait_for_jobs([job_id], timeout=30)
            print(cluster.submitted_jobs())

The configuration is written to the *default* path ``/etc/slurm/slurm.conf``
(the snakemake slurm jobstep plugin strips every ``SLURM_*`` variable,
``SLURM_CONF`` included, before its inner ``srun``, so any other path breaks
jobs).  A pre-existing file there is backed up and restored on stop.  Only one
cluster can run per machine at a time; a lock file serialises concurrent users.

Everything else (state, spool, logs, munge key) lives under ``workdir``; the
munge socket lives in a short private directory under ``/run`` (or ``/tmp``)
because munged insists that every directory above its socket is searchable by
all users, which pytest's ``tmp_path`` (under a 0700 directory) is not.

No pytest import here: the module can be used from scripts as well.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DAEMONS",
    "LocalSlurm",
    "SlurmError",
    "SubmittedJob",
    "local_slurm",
    "slurm_available",
    "slurm_unavailable_reason",
]

#: Programs the harness needs.
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "scontrol", "scancel", "srun")

SLURM_CONF = Path("/etc/slurm/slurm.conf")
BACKUP_SUFFIX = ".initlab-backup"
MARKER = "# initlab local single-node SLURM (tests/cluster/slurm.py)"
LOCK_PATH = Path("/tmp/initlab-local-slurm.lock")

TERMINAL_STATES = frozenset(
    {
        "BOOT_FAIL",
        "CANCELLED",
        "COMPLETED",
        "DEADLINE",
        "FAILED",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "PREEMPTED",
        "TIMEOUT",
    }
)

_SUBMIT_RE = re.compile(r"_slurm_rpc_submit_batch_job: JobId=(\d+)")


class SlurmError(RuntimeError):
    """The local cluster could not be started, or a command against it failed."""


# --------------------------------------------------------------------------
# availability


def _which(prog: str) -> str | None:
    found = shutil.which(prog)
    if found:
        return found
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin"):
        p = Path(d, prog)
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return None


def slurm_unavailable_reason() -> str | None:
    """Why :func:`local_slurm` cannot run here, or ``None`` when it can."""
    if os.name != "posix" or not hasattr(os, "geteuid"):
        return "local SLURM needs Linux"
    if os.geteuid() != 0:
        return "local SLURM needs root (it writes /etc/slurm/slurm.conf and runs the daemons as root)"
    missing = [p for p in DAEMONS + CLIENTS if _which(p) is None]
    if missing:
        return "SLURM/munge not installed (missing: " + ", ".join(missing) + "); run `bash .ci/install_slurm.sh`"
    return None


def slurm_available() -> bool:
    """True when the SLURM and munge binaries are present and we are root."""
    return slurm_unavailable_reason() is None


# --------------------------------------------------------------------------
# helpers


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` without any ``SLURM_*`` variable (so the default config is used)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    if extra:
        env.update(extra)
    return env


def _pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # state is the field after the ")" closing the command name
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def _pick_ports() -> tuple[int, int]:
    """SLURM's default ports 6817/6818 when free, else two free ephemeral ones."""
    ctld, slurmd = 6817, 6818
    if not _port_free(ctld):
        ctld = _free_port()
    if not _port_free(slurmd) or slurmd == ctld:
        slurmd = _free_port()
    return ctld, slurmd


def _node_hardware() -> dict[str, str]:
    """The node line fields that ``slurmd -C`` reports (CPUs, Sockets, RealMemory ...)."""
    out = subprocess.run(
        [_which("slurmd") or "slurmd", "-C"],
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_env(),
    )
    fields: dict[str, str] = {}
    for line in out.stdout.splitlines():
        if line.startswith("NodeName="):
            for tok in line.split():
                k, _, v = tok.partition("=")
                fields[k] = v
    if "CPUs" not in fields:
        fields["CPUs"] = str(os.cpu_count() or 1)
    if "RealMemory" not in fields:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        fields["RealMemory"] = str(pages // (1024 * 1024))
    return fields


@dataclass(frozen=True)
class SubmittedJob:
    """One ``sbatch`` submission seen by slurmctld."""

    job_id: int
    name: str | None = None  # JobName (snakemake: the run UUID)
    state: str | None = None  # JobState, None once purged from slurmctld
    comment: str | None = None  # Comment (snakemake: "rule_<name>_wildcards_..." )
    cpus: int | None = None
    exit_code: str | None = None
    submit_time: str | None = None
    start_time: str | None = None
    end_time: str | None = None


# --------------------------------------------------------------------------
# the cluster


@dataclass
class LocalSlurm:
    """A single-node SLURM cluster on this machine.  Use as a context manager.

    Parameters
    ----------
    workdir:
        Where state, spool, logs and the munge key go (created if missing).
    start_timeout:
        Seconds to wait for the node to become ``idle``.
    stop_timeout:
        Seconds to wait for each daemon after SIGTERM before SIGKILL.
    lock_timeout:
        Seconds to wait for another local cluster on this machine to finish.
    partition:
        Name of the single (default) partition.
    def_mem_per_cpu:
        ``DefMemPerCPU`` in MB, for jobs that do not request memory
        (without it a job would get the whole node's memory).
    """

    workdir: Path
    start_timeout: float = 30.0
    stop_timeout: float = 10.0
    lock_timeout: float = 300.0
    partition: str = "debug"
    cluster_name: str = "initlab"
    def_mem_per_cpu: int = 1024
    extra_config: str = ""

    hostname: str = field(init=False, default="")
    cpus: int = field(init=False, default=0)
    real_memory: int = field(init=False, default=0)
    ports: tuple[int, int] = field(init=False, default=(0, 0))
    pids: dict[str, int] = field(init=False, default_factory=dict)
    _procs: dict[str, subprocess.Popen] = field(init=False, default_factory=dict)
    _rundir: Path | None = field(init=False, default=None)
    _lock_fd: int | None = field(init=False, default=None)
    _conf_backup: Path | None = field(init=False, default=None)
    _wrote_conf: bool = field(init=False, default=False)
    _hosts_line: str | None = field(init=False, default=None)
    _log_offset: int = field(init=False, default=0)
    _started: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir).resolve()

    # -- paths ---------------------------------------------------------------
    @property
    def conf_path(self) -> Path:
        return SLURM_CONF

    @property
    def log_dir(self) -> Path:
        return self.workdir / "log"

    @property
    def slurmctld_log(self) -> Path:
        return self.log_dir / "slurmctld.log"

    @property
    def slurmd_log(self) -> Path:
        return self.log_dir / "slurmd.log"

    @property
    def munged_log(self) -> Path:
        return self.workdir / "munge" / "munged.log"

    @property
    def munge_key(self) -> Path:
        return self.workdir / "munge" / "munge.key"

    @property
    def munge_socket(self) -> Path:
        if self._rundir is None:
            raise SlurmError("cluster not started")
        return self._rundir / "munge.socket"

    @property
    def state_dir(self) -> Path:
        return self.workdir / "state"

    @property
    def spool_dir(self) -> Path:
        return self.workdir / "spool"

    # -- context manager -----------------------------------------------------
    def __enter__(self) -> LocalSlurm:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- start ---------------------------------------------------------------
    def start(self) -> LocalSlurm:
        reason = slurm_unavailable_reason()
        if reason:
            raise SlurmError(reason)
        if self._started:
            raise SlurmError("cluster already started")
        self._started = True
        try:
            self._acquire_lock()
            self._prepare_dirs()
            self._ensure_hostname()
            self._start_munged()
            self._write_conf()
            self._start_slurm()
            self._wait_idle()
        except BaseException:
            self.stop()
            raise
        return self

    def _acquire_lock(self) -> None:
        fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise SlurmError(
                        f"another local SLURM holds {LOCK_PATH} for more than {self.lock_timeout:.0f}s"
                    ) from None
                time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _prepare_dirs(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for d in (self.log_dir, self.state_dir, self.spool_dir):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
        # Start from clean logs so job counting starts at zero.
        for log in (self.slurmctld_log, self.slurmd_log):
            if log.exists():
                log.replace(log.with_name(log.name + ".old"))
        self._log_offset = 0
        # munged: the socket directory and all its parents must be searchable
        # by everyone, and the path must fit in sun_path (108 bytes).
        base = "/run" if os.access("/run", os.W_OK) else "/tmp"
        self._rundir = Path(tempfile.mkdtemp(prefix="initlab-slurm-", dir=base))
        os.chmod(self._rundir, 0o755)

    def _ensure_hostname(self) -> None:
        self.hostname = socket.gethostname().split(".")[0]
        try:
            socket.gethostbyname(self.hostname)
            return
        except OSError:
            pass
        line = f"127.0.0.1 {self.hostname} {MARKER}\n"
        with open("/etc/hosts", "a") as fh:
            fh.write(line)
        self._hosts_line = line

    def _start_munged(self) -> None:
        munge_dir = self.munge_key.parent
        munge_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(munge_dir, 0o700)
        if not self.munge_key.exists():
            key = os.urandom(1024)
            fd = os.open(self.munge_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
        os.chown(self.munge_key, os.geteuid(), os.getegid())
        os.chmod(self.munge_key, 0o400)
        cmd = [
            _which("munged") or "munged",
            "--foreground",
            f"--key-file={self.munge_key}",
            f"--socket={self.munge_socket}",
            f"--pid-file={self._rundir / 'munged.pid'}",
            f"--log-file={self.munged_log}",
            f"--seed-file={munge_dir / 'munged.seed'}",
        ]
        self._spawn("munged", cmd, munge_dir / "munged.stdout")
        deadline = time.monotonic() + 10
        while not self.munge_socket.exists():
            self._check_alive("munged")
            if time.monotonic() > deadline:
                raise SlurmError("munged did not create its socket within 10s\n" + self.diagnostics())
            time.sleep(0.05)

    def _write_conf(self) -> None:
        hw = _node_hardware()
        self.cpus = int(hw["CPUs"])
        # A little headroom: a node whose RealMemory exceeds what slurmd
        # measures is drained ("Low RealMemory").
        self.real_memory = max(256, int(int(hw["RealMemory"]) * 0.95))
        self.ports = _pick_ports()
        node = [f"NodeName={self.hostname}", f"CPUs={self.cpus}"]
        for key in ("Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore"):
            if key in hw:
                node.append(f"{key}={hw[key]}")
        node += [f"RealMemory={self.real_memory}", "State=UNKNOWN"]
        def_mem = max(1, min(self.def_mem_per_cpu, self.real_memory // self.cpus))
        text = f"""{MARKER}
# Written for a test run; the previous file (if any) is restored on stop.
ClusterName={self.cluster_name}
SlurmctldHost={self.hostname}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={self.ports[0]}
SlurmdPort={self.ports[1]}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={self.state_dir}
SlurmdSpoolDir={self.spool_dir}
SlurmctldPidFile={self.state_dir / "slurmctld.pid"}
SlurmdPidFile={self.spool_dir / "slurmd.pid"}
SlurmctldLogFile={self.slurmctld_log}
SlurmdLogFile={self.slurmd_log}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# no accounting database: keep finished jobs visible to squeue for 10 min
MinJobAge=600
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU={def_mem}
# Reject at sbatch time what this node can never run (e.g. a snakemake group
# job whose summed threads exceed the CPUs) instead of PENDING forever.
EnforcePartLimits=ALL
ReturnToService=2
KillWait=2
InactiveLimit=0
SlurmdTimeout=300
{" ".join(node)}
PartitionName={self.partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
{self.extra_config}
"""
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        backup = SLURM_CONF.with_name(SLURM_CONF.name + BACKUP_SUFFIX)
        if SLURM_CONF.exists():
            current = SLURM_CONF.read_text(errors="replace")
            if not current.startswith(MARKER):
                # A real config: keep it.  (One starting with MARKER is a
                # leftover of a crashed run; the backup, if any, is older.)
                shutil.copy2(SLURM_CONF, backup)
        if backup.exists():
            self._conf_backup = backup
        tmp = SLURM_CONF.with_name(SLURM_CONF.name + ".initlab-tmp")
        tmp.write_text(text)
        os.chmod(tmp, 0o644)
        tmp.replace(SLURM_CONF)
        self._wrote_conf = True
        shutil.copy2(SLURM_CONF, self.workdir / "slurm.conf")  # for inspection

    def _start_slurm(self) -> None:
        # -D: stay in the foreground (we own the PID); -c: ignore saved state.
        self._spawn(
            "slurmctld",
            [_which("slurmctld") or "slurmctld", "-D", "-c"],
            self.log_dir / "slurmctld.stdout",
        )
        self._spawn(
            "slurmd",
            [_which("slurmd") or "slurmd", "-D"],
            self.log_dir / "slurmd.stdout",
        )

    def _spawn(self, name: str, cmd: list[str], stdout: Path) -> None:
        with open(stdout, "wb") as out:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=clean_env(),
                cwd=self.workdir,
                start_new_session=True,  # keep terminal signals away
            )
        self._procs[name] = proc
        self.pids[name] = proc.pid

    def _check_alive(self, name: str) -> None:
        proc = self._procs.get(name)
        if proc is not None and proc.poll() is not None:
            raise SlurmError(f"{name} exited early with status {proc.returncode}\n" + self.diagnostics())

    def _wait_idle(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while True:
            for name in DAEMONS:
                self._check_alive(name)
            res = subprocess.run(
                [_which("sinfo") or "sinfo", "-h", "-N", "-o", "%N %T"],
                capture_output=True,
                text=True,
                env=clean_env(),
                timeout=30,
            )
            last = (res.stdout + res.stderr).strip()
            for line in res.stdout.splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] == self.hostname and parts[1] == "idle":
                    return
            if time.monotonic() > deadline:
                raise SlurmError(
                    f"node {self.hostname} not idle after {self.start_timeout:.0f}s "
                    f"(last sinfo: {last!r})\n" + self.diagnostics()
                )
            time.sleep(0.1)

    # -- stop ----------------------------------------------------------------
    def stop(self) -> None:
        """Stop the daemons by their PIDs, restore config files.  Idempotent."""
        errors: list[str] = []
        # Cancel whatever is still running, so no slurmstepd outlives slurmd.
        self._drain_jobs()
        # slurmd first (it talks to slurmctld on shutdown), then slurmctld,
        # then munged (both use it).
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self._procs.get(name)
            if proc is None:
                continue
            try:
                self._terminate(name, proc)
            except Exception as exc:  # keep going: stop the others too
                errors.append(f"{name}: {exc}")
        self._kill_stepds()
        self._restore_files()
        if self._rundir is not None:
            shutil.rmtree(self._rundir, ignore_errors=True)
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            self._lock_fd = None
        if errors:
            raise SlurmError("stopping local SLURM: " + "; ".join(errors))

    def _terminate(self, name: str, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=10)

    def _drain_jobs(self, timeout: float = 15.0) -> None:
        """Cancel all jobs and wait (bounded) until none is running/completing,
        so that slurmstepd kills the job processes before slurmd goes away."""
        ctld = self._procs.get("slurmctld")
        slurmd = self._procs.get("slurmd")
        if not ctld or ctld.poll() is not None or not slurmd or slurmd.poll() is not None:
            return
        with contextlib.suppress(Exception):
            if not self._active_jobs():
                return
            subprocess.run(
                [_which("scancel") or "scancel", "--full", "--user", "root"],
                capture_output=True,
                env=clean_env(),
                timeout=10,
            )
            deadline = time.monotonic() + timeout
            while self._active_jobs() and time.monotonic() < deadline:
                time.sleep(0.2)

    def _active_jobs(self) -> list[str]:
        res = subprocess.run(
            [
                _which("squeue") or "squeue",
                "-h",
                "-o",
                "%i %T",
                "--states=PENDING,RUNNING,COMPLETING,CONFIGURING,SUSPENDED",
            ],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=10,
        )
        return res.stdout.split()

    def _leftover_pids(self) -> list[int]:
        """slurmstepd processes of *our* slurmd, plus all their descendants.

        slurmstepd double-forks, calls setsid and clears its environment, so
        neither parent, session nor environment leads back to slurmd; but it
        keeps our slurmd log file open.  Only such processes are selected.
        """
        log = str(self.slurmd_log)
        ppid: dict[int, int] = {}
        roots: list[int] = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                stat = (entry / "stat").read_text()
                ppid[pid] = int(stat.rsplit(")", 1)[1].split()[1])
                if not os.readlink(entry / "exe").rsplit("/", 1)[-1].startswith("slurmstepd"):
                    continue
                fds = entry / "fd"
                if any(os.readlink(fd) == log for fd in fds.iterdir()):
                    roots.append(pid)
            except OSError:
                continue
        found = set(roots)
        changed = True
        while changed:
            changed = False
            for pid, parent in ppid.items():
                if parent in found and pid not in found:
                    found.add(pid)
                    changed = True
        found.discard(os.getpid())
        return sorted(found)

    def _kill_stepds(self) -> None:
        """SIGKILL any slurmstepd (and job process) left behind by our slurmd."""
        for _ in range(5):
            victims = self._leftover_pids()
            if not victims:
                return
            for pid in victims:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)

    def _restore_files(self) -> None:
        if self._wrote_conf:
            with contextlib.suppress(OSError):
                if self._conf_backup is not None and self._conf_backup.exists():
                    self._conf_backup.replace(SLURM_CONF)
                elif SLURM_CONF.exists() and SLURM_CONF.read_text(errors="replace").startswith(MARKER):
                    SLURM_CONF.unlink()
            self._wrote_conf = False
        if self._hosts_line is not None:
            with contextlib.suppress(OSError):
                hosts = Path("/etc/hosts").read_text()
                Path("/etc/hosts").write_text(hosts.replace(self._hosts_line, "", 1))
            self._hosts_line = None

    def alive_pids(self) -> dict[str, int]:
        """The harness daemons whose recorded PID is still alive."""
        return {n: p for n, p in self.pids.items() if _pid_alive(p)}

    # -- diagnostics ---------------------------------------------------------
    def diagnostics(self, lines: int = 40) -> str:
        parts = []
        for title, path in (
            ("munged log", self.munged_log),
            ("munged stdout", self.munge_key.parent / "munged.stdout"),
            ("slurmctld log", self.slurmctld_log),
            ("slurmctld stdout", self.log_dir / "slurmctld.stdout"),
            ("slurmd log", self.slurmd_log),
            ("slurmd stdout", self.log_dir / "slurmd.stdout"),
        ):
            if path.exists():
                parts.append(f"--- {title} ({path}) ---\n{_tail(path, lines)}")
        return "\n".join(parts)

    # -- jobs ----------------------------------------------------------------
    def run(self, *args: str, check: bool = True, timeout: float = 60) -> str:
        """Run a SLURM client command (SLURM_* stripped from env); return stdout."""
        res = subprocess.run(list(args), capture_output=True, text=True, env=clean_env(), timeout=timeout)
        if check and res.returncode != 0:
            raise SlurmError(f"{' '.join(args)} failed ({res.returncode}): {res.stderr.strip()}")
        return res.stdout

    def sbatch_wrap(self, command: str, *sbatch_args: str, cwd: Path | None = None) -> int:
        """``sbatch --parsable --wrap COMMAND``; returns the job id."""
        res = subprocess.run(
            ["sbatch", "--parsable", *sbatch_args, "--wrap", command],
            capture_output=True,
            text=True,
            env=clean_env(),
            cwd=cwd or self.workdir,
            timeout=60,
        )
        if res.returncode != 0:
            raise SlurmError(f"sbatch failed ({res.returncode}): {res.stderr.strip()}")
        return int(res.stdout.strip().split(";")[0])

    def submitted_job_ids(self) -> list[int]:
        """Ids of every batch job submitted since start, from the slurmctld log.

        The log survives slurmctld purging finished jobs (MinJobAge), so this
        is the reliable count of ``sbatch`` submissions.
        """
        try:
            text = self.slurmctld_log.read_text(errors="replace")
        except FileNotFoundError:
            return []
        ids = [int(m.group(1)) for m in _SUBMIT_RE.finditer(text[self._log_offset :])]
        return sorted(set(ids))

    def job_table(self) -> dict[int, SubmittedJob]:
        """Jobs slurmctld still knows (``scontrol show jobs -o``), by id."""
        out = self.run("scontrol", "show", "jobs", "-o", check=False)
        jobs: dict[int, SubmittedJob] = {}
        for line in out.splitlines():
            fields = _parse_scontrol_line(line)
            if "JobId" not in fields:
                continue
            jid = int(fields["JobId"])
            jobs[jid] = SubmittedJob(
                job_id=jid,
                name=fields.get("JobName"),
                state=fields.get("JobState"),
                comment=None if fields.get("Comment") in (None, "(null)") else fields["Comment"],
                cpus=int(fields["NumCPUs"]) if fields.get("NumCPUs", "").isdigit() else None,
                exit_code=fields.get("ExitCode"),
                submit_time=fields.get("SubmitTime"),
                start_time=fields.get("StartTime"),
                end_time=fields.get("EndTime"),
            )
        return jobs

    def submitted_jobs(self) -> list[SubmittedJob]:
        """All jobs submitted since start (log), with name/state where still known."""
        table = self.job_table()
        ids = sorted(set(self.submitted_job_ids()) | set(table))
        return [table.get(i, SubmittedJob(job_id=i)) for i in ids]

    def job_count(self) -> int:
        """Number of ``sbatch`` submissions since start."""
        return len(self.submitted_jobs())

    def job_states(self, job_ids: Iterable[int] | None = None) -> dict[int, str]:
        out = self.run("squeue", "-h", "--states=all", "-o", "%i|%T", check=False)
        states = {}
        for line in out.splitlines():
            jid, _, state = line.partition("|")
            if jid.strip().isdigit():
                states[int(jid)] = state.strip()
        if job_ids is not None:
            wanted = set(job_ids)
            states = {k: v for k, v in states.items() if k in wanted}
        return states

    def wait_for_jobs(self, job_ids: Iterable[int], timeout: float = 60) -> dict[int, str]:
        """Wait until all jobs reach a terminal state; return their states."""
        ids = list(job_ids)
        deadline = time.monotonic() + timeout
        while True:
            states = self.job_states(ids)
            if all(states.get(i) in TERMINAL_STATES for i in ids):
                return states
            if time.monotonic() > deadline:
                raise SlurmError(f"jobs {ids} not finished after {timeout:.0f}s: {states}\n" + self.diagnostics())
            for name in ("slurmctld", "slurmd"):
                self._check_alive(name)
            time.sleep(0.2)


def _parse_scontrol_line(line: str) -> dict[str, str]:
    """Parse one ``scontrol show jobs -o`` line into Key=Value pairs.

    Values may contain spaces (e.g. Comment); a token without ``=`` or one
    whose key is not CamelCase-ish is appended to the previous value.
    """
    fields: dict[str, str] = {}
    key = None
    for tok in line.split(" "):
        k, sep, v = tok.partition("=")
        if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9/:_]*", k):
            key = k
            fields[key] = v
        elif key is not None and tok:
            fields[key] += " " + tok
    return fields


@contextlib.contextmanager
def local_slurm(workdir: Path | str, **kwargs) -> Iterator[LocalSlurm]:
    """Start a local single-node SLURM in ``workdir``; stop it on exit (also on error)."""
    cluster = LocalSlurm(Path(workdir), **kwargs)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


if __name__ == "__main__":  # manual use: python tests/cluster/slurm.py [workdir]
    import sys

    wd = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="slurm-"))
    t0 = time.monotonic()
    with local_slurm(wd) as c:
        print(f"up in {time.monotonic() - t0:.2f}s; pids={c.pids}; workdir={wd}")
        jid = c.sbatch_wrap(f"echo hi > {wd}/hi.txt")
        print(c.wait_for_jobs([jid], timeout=30), c.submitted_jobs())
        t1 = time.monotonic()
    print(f"stopped in {time.monotonic() - t1:.2f}s; alive={c.alive_pids()}")
