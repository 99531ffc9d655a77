"""Run untrusted Python in a separate, limited process and say what happened.

Two layers, reported on every result as `isolation`:

* ``namespaces`` (root, with util-linux ``unshare``): a new network namespace (only a downed
  loopback: no route anywhere) and PID namespace (every process of the run dies with it), as user
  ``nobody``, so the project's files (root-owned) cannot be written; plus everything of ``guard``.
* ``guard`` (any user): rlimits (CPU seconds, address space, file size, process count, open
  files), a fresh temp folder as cwd, an environment of PATH and LANG only, the interpreter in
  isolated mode (``-I -S -B``: no site-packages, no PYTHON* variables, no .pyc writes), and an
  audit hook (``sandbox_guard.py``) that refuses sockets, new processes, ctypes, writes outside the
  temp folder and reads outside it and the standard library. An audit hook is in-process: code
  written to defeat it (e.g. through ``gc``) can, so without namespaces the network barrier is
  the weaker of the two.

What is not isolated: CPU and memory bandwidth (the run shares the machine), world-readable
files for native code in ``namespaces`` mode, and the wall clock (bounded by ``timeout_s``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from synth_pipeline.config import SandboxConfig
from synth_pipeline.errors import ConfigError

NOBODY = 65534
GUARD = Path(__file__).with_name("sandbox_guard.py")
MARKER = "SANDBOX-VIOLATION:"
SYSTEM_PYTHON = "/usr/bin/python3"
Status = Literal["ok", "error", "timeout", "memory", "blocked", "killed"]


@dataclass
class SandboxResult:
    """How one run ended. `status` is ok only for exit code 0 with nothing refused."""

    status: Status
    returncode: int | None
    stdout: str
    stderr: str
    runtime_s: float
    isolation: str
    violations: list[str]
    pid: int  # also the process group (and session) id every process of the run started in

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.cache
def namespace_python() -> str | None:
    """An interpreter that user nobody can run inside new namespaces, or None where that is impossible."""
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("unshare"):
        return None
    for python in (SYSTEM_PYTHON, os.path.realpath(sys.executable)):
        if not os.path.exists(python):
            continue
        probe = _namespace_prefix() + [python, "-I", "-S", "-c", "import os; print(os.getuid())"]
        try:
            done = subprocess.run(probe, capture_output=True, text=True, timeout=20, env=_env())
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.strip() == str(NOBODY):
            return python
    return None


def isolation_level(config: SandboxConfig) -> str:
    """The isolation a run with this config gets here (`auto` resolved)."""
    if config.isolation == "guard":
        return "guard"
    if namespace_python() is not None:
        return "namespaces"
    if config.isolation == "namespaces":
        raise ConfigError("generation.code.sandbox.isolation: 'namespaces' needs root and util-linux `unshare` "
                          "on this machine; set it to 'auto' or 'guard'")
    return "guard"


def run_python(source: str, config: SandboxConfig, guard: bool = True) -> SandboxResult:
    """Run `source` as main.py in a fresh temp folder under the limits of `config`.

    `guard=False` leaves out the audit hook, to show that the OS layers contain a run by themselves.
    """
    level = isolation_level(config)
    python = namespace_python() if level == "namespaces" else os.path.realpath(sys.executable)
    assert python is not None
    work = Path(tempfile.mkdtemp(prefix="synth-sandbox-"))
    logs = Path(tempfile.mkdtemp(prefix="synth-sandbox-log-"))
    try:
        (work / "main.py").write_text(source, encoding="utf-8")
        if level == "namespaces":
            os.chown(work, NOBODY, NOBODY)
            os.chown(work / "main.py", NOBODY, NOBODY)
        if guard:
            cmd = [python, "-I", "-S", "-B", "-c", GUARD.read_text(encoding="utf-8")]
        else:
            cmd = [python, "-I", "-S", "-B", "main.py"]
        if level == "namespaces":
            cmd = _namespace_prefix() + cmd
        uid = NOBODY if level == "namespaces" else os.geteuid()
        nproc = _process_count(uid) + config.max_processes
        with open(logs / "out", "wb") as out, open(logs / "err", "wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=work, env=_env(), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=err, start_new_session=True,
                                    preexec_fn=functools.partial(_limits, config, nproc))
            try:
                timed_out, cpu_s = _reap(proc, started + config.timeout_s)
            finally:
                _kill_group(proc.pid)
                if proc.returncode is None:
                    proc.wait()
            runtime = time.perf_counter() - started
        stdout = _read(logs / "out", config.max_output_chars)
        stderr = _read(logs / "err", config.max_output_chars)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
    violations = [line.split(MARKER, 1)[1].strip() for line in stderr.splitlines() if MARKER in line]
    status = _status(proc.returncode, timed_out or (proc.returncode != 0 and cpu_s >= config.cpu_s), stderr,
                     violations)
    return SandboxResult(status, proc.returncode, stdout, stderr, round(runtime, 4), level, violations, proc.pid)


def _reap(proc: subprocess.Popen, deadline: float) -> tuple[bool, float]:
    """Wait for the run until `deadline`; (timed out, CPU seconds it and its waited-for children used).

    The CPU time tells a run stopped by RLIMIT_CPU apart from a crash whatever reports it: in
    namespaces mode `unshare` may exit 1 ("sigprocmask unblock failed") instead of passing on the
    SIGXCPU its child died of."""
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() >= deadline:
            timed_out = True
            _kill_group(proc.pid)
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.01)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return timed_out, usage.ru_utime + usage.ru_stime


def _status(returncode: int, timed_out: bool, stderr: str, violations: list[str]) -> Status:
    if timed_out or returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return "timeout"
    if violations:
        return "blocked"
    if "MemoryError" in stderr:
        return "memory"
    if returncode == 0:
        return "ok"
    if returncode < 0 or returncode > 128:  # killed by a signal (directly, or reported by unshare)
        return "killed"
    return "error"


def _namespace_prefix() -> list[str]:
    return ["unshare", "--net", "--pid", "--fork", "--kill-child",
            "--setuid", str(NOBODY), "--setgid", str(NOBODY), "--"]


def _env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def _limits(config: SandboxConfig, nproc: int) -> None:
    """Runs in the child between fork and exec: no imports or locks here (the parent has threads)."""
    mb = 1024 * 1024
    for limit, value in ((resource.RLIMIT_CPU, config.cpu_s),
                         (resource.RLIMIT_AS, config.memory_mb * mb),
                         (resource.RLIMIT_FSIZE, config.file_size_mb * mb),
                         (resource.RLIMIT_NOFILE, config.max_open_files),
                         (resource.RLIMIT_NPROC, nproc),
                         (resource.RLIMIT_CORE, 0)):
        hard = value + 1 if limit == resource.RLIMIT_CPU else value  # SIGXCPU first, SIGKILL a second later
        resource.setrlimit(limit, (value, hard))


def _process_count(uid: int) -> int:
    """Processes (threads count too, for RLIMIT_NPROC) the user already has: the limit is headroom above."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _read(path: Path, limit: int) -> str:
    with open(path, "rb") as f:
        data = f.read(limit * 4)
    return data.decode("utf-8", errors="replace")[:limit]
