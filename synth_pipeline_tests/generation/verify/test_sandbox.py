"""The sandbox contains each attack, reports it, and leaves the host as it was."""

import ast
import contextlib
import os
import socket
import uuid
from pathlib import Path

import pytest

from synth_pipeline.config import SandboxConfig
from synth_pipeline.generation.verify.sandbox import NOBODY, namespace_python, run_python

GUARD = SandboxConfig(isolation="guard", timeout_s=5, cpu_s=3)
AUTO = SandboxConfig(timeout_s=5, cpu_s=3)
needs_namespaces = pytest.mark.skipif(namespace_python() is None, reason="needs root and util-linux unshare")


def _left_running(pgid: int) -> list[int]:
    """Processes still in the run's process group."""
    left = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(entry.path, "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                    left.append(int(entry.name))
    return left


@pytest.fixture(params=["guard", "auto"])
def config(request):
    return GUARD if request.param == "guard" else AUTO


def test_plain_code_runs_and_reports_its_output(config):
    res = run_python("import json, math\nprint(json.dumps(math.factorial(5)))", config)
    assert res.status == "ok" and res.stdout.strip() == "120" and res.violations == []
    assert res.isolation in {"guard", "namespaces"} and res.runtime_s > 0


def test_the_environment_is_scrubbed_and_cwd_is_a_fresh_temp_folder(config, monkeypatch):
    monkeypatch.setenv("SYNTH_SECRET_TOKEN", "do-not-leak")
    res = run_python("import os\nprint(sorted(os.environ))\nprint(os.getcwd())\nprint(os.listdir('.'))", config)
    env, cwd, files = res.stdout.strip().splitlines()
    assert "SYNTH_SECRET_TOKEN" not in env and "do-not-leak" not in res.stdout
    assert set(ast.literal_eval(env)) <= {"PATH", "LANG", "LC_CTYPE"}
    assert "synth-sandbox-" in cwd and not Path(cwd).exists()  # removed after the run
    assert ast.literal_eval(files) == ["main.py"]


def test_an_infinite_loop_is_stopped(config):
    res = run_python("while True:\n    pass\n", config)
    assert res.status == "timeout" and res.runtime_s < 60


def test_a_sleeping_process_is_killed_at_the_wall_clock_limit():
    res = run_python("import time\ntime.sleep(600)\n", SandboxConfig(timeout_s=1, isolation="guard"))
    assert res.status == "timeout" and res.returncode is not None


def test_a_large_allocation_fails_inside_the_limit(config):
    res = run_python("block = bytearray(4 * 1024 ** 3)\nprint('allocated')\n", config)
    assert res.status == "memory" and "allocated" not in res.stdout


def test_a_fork_bomb_is_refused_and_leaves_nothing_behind(config):
    res = run_python("import os\nwhile True:\n    os.fork()\n", config)
    assert res.status == "blocked" and res.violations[0].startswith("os.fork")
    assert _left_running(res.pid) == []


def test_subprocesses_and_shell_commands_are_refused(config):
    res = run_python("import subprocess\nsubprocess.run(['true'])\n", config)
    assert res.status == "blocked" and "subprocess.Popen" in res.violations[0]
    assert run_python("import os\nos.system('true')\n", config).status == "blocked"


def test_a_network_connection_is_refused(config):
    with socket.socket() as server:  # a listener on the host the code tries to reach
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        server.settimeout(0.5)
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'x')\n"
        res = run_python(code, config)
        with pytest.raises(TimeoutError):
            server.accept()  # nothing arrived
    assert res.status == "blocked" and res.violations[0].startswith("socket.")


def test_a_write_outside_the_temp_folder_is_refused(config, tmp_path):
    target = Path("/tmp") / f"synth-escape-{uuid.uuid4().hex}"
    for code in (f"open({str(target)!r}, 'w').write('x')",
                 f"import os\nos.open({str(target)!r}, os.O_CREAT | os.O_WRONLY)",
                 f"import shutil\nshutil.copyfile('main.py', {str(target)!r})"):
        res = run_python(code, config)
        assert res.status == "blocked", code
        assert not target.exists()
    victim = tmp_path / "keep.txt"
    victim.write_text("project file")
    res = run_python(f"import os\nos.remove({str(victim)!r})", config)
    assert res.status == "blocked" and victim.read_text() == "project file"


def test_project_files_and_secrets_cannot_be_read(config):
    res = run_python(f"print(open({__file__!r}).read()[:20])", config)
    assert res.status == "blocked" and "read" in res.violations[0]


def test_ctypes_is_refused(config):
    res = run_python("import ctypes\nctypes.CDLL(None).system(b'true')\n", config)
    assert res.status == "blocked"


def test_a_refusal_is_reported_even_when_the_code_catches_it(config):
    code = "import socket\ntry:\n    socket.socket()\nexcept PermissionError:\n    pass\nprint('carried on')\n"
    res = run_python(code, config)
    assert res.status == "blocked" and "carried on" in res.stdout


def test_output_beyond_the_file_size_limit_stops_the_run():
    res = run_python("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
                     SandboxConfig(file_size_mb=1, isolation="guard", timeout_s=10))
    assert res.status == "error" and "File too large" in res.stderr  # Python ignores SIGXFSZ: EFBIG
    assert len(res.stdout) <= SandboxConfig().max_output_chars


@needs_namespaces
def test_namespaces_contain_what_the_guard_would_have_refused(tmp_path):
    """Without the audit hook: the OS layers alone (nobody, new net/PID namespaces, rlimits)."""
    assert run_python("import os\nprint(os.getuid())", AUTO, guard=False).stdout.strip() == str(NOBODY)
    bomb = run_python("import os\nwhile True:\n    os.fork()\n", AUTO, guard=False)
    assert bomb.status == "error" and "Resource temporarily unavailable" in bomb.stderr
    assert _left_running(bomb.pid) == []  # the PID namespace took every child with it
    net = run_python("import socket\nsocket.create_connection(('10.255.255.1', 80), timeout=2)", AUTO, guard=False)
    assert net.status == "error" and "Network is unreachable" in net.stderr
    victim = tmp_path / "keep.txt"
    victim.write_text("project file")
    write = run_python(f"open({str(victim)!r}, 'w').write('gone')", AUTO, guard=False)
    assert write.status == "error" and "PermissionError" in write.stderr
    assert victim.read_text() == "project file"


def test_asking_for_namespaces_where_there_are_none_is_a_config_error(monkeypatch):
    from synth_pipeline.errors import ConfigError
    from synth_pipeline.generation.verify import sandbox

    monkeypatch.setattr(sandbox, "namespace_python", lambda: None)
    with pytest.raises(ConfigError, match="generation.code.sandbox.isolation"):
        sandbox.isolation_level(SandboxConfig(isolation="namespaces"))
    assert sandbox.isolation_level(SandboxConfig()) == "guard"
