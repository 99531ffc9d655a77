"""Bootstrap of a sandboxed run: installs an audit hook, then executes `main.py` from the cwd.

Runs inside the child interpreter (started with `-I -S -B -c <this file's source>`), so it imports
nothing from synth_pipeline. The hook refuses sockets, new processes, ctypes, and file writes or
reads outside the run's temp folder and the standard library; each refusal is written to stderr
with the MARKER prefix (so the parent can report it even when the code catches the error).
"""

import os
import sys
import sysconfig

MARKER = "SANDBOX-VIOLATION:"
_ROOT = os.path.realpath(os.getcwd())
# The standard library: with -I -S, sys.path holds only it (its zip, its folder, lib-dynload).
_READABLE = tuple({os.path.realpath(p) for p in (*sys.path, sysconfig.get_paths()["stdlib"],
                                                  sysconfig.get_paths()["platstdlib"]) if p})
_DEVICES = ("/dev/null", "/dev/urandom", "/dev/zero")
_BLOCKED_EVENTS = ("socket.", "os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system",
                   "subprocess.Popen", "os.kill", "os.killpg", "ctypes.", "os.putenv", "os.unsetenv",
                   "pty.spawn", "resource.setrlimit", "os.setuid", "webbrowser.open", "urllib.Request",
                   "ftplib.", "http.client.", "smtplib.", "poplib.", "imaplib.", "telnetlib.")
_PATH_EVENTS = ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.symlink",
                "os.link", "os.truncate", "os.utime", "shutil.rmtree", "shutil.copyfile", "shutil.move",
                "os.chdir")


def _make_hook():
    busy = []  # re-entrancy: the checks below may raise events of their own

    def inside(path, roots):
        real = os.path.realpath(path)
        return any(real == r or real.startswith(r + os.sep) for r in roots)

    def refuse(event, detail):
        os.write(2, f"\n{MARKER} {event} {detail}\n".encode(errors="replace"))
        raise PermissionError(f"sandbox: {event} is not allowed ({detail})")

    def check(event, args):
        if event.startswith(_BLOCKED_EVENTS):
            refuse(event, repr(args)[:200])
        elif event == "open":
            path, mode, flags = args
            if isinstance(path, bytes):
                path = os.fsdecode(path)
            if not isinstance(path, str) or path in _DEVICES:
                return
            writing = (mode is not None and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))
            if not inside(path, (_ROOT,) if writing else (_ROOT, *_READABLE)):
                refuse(event, f"{'write' if writing else 'read'} {path}")
        elif event.startswith(_PATH_EVENTS):
            for arg in args:
                if isinstance(arg, str | bytes) and not inside(os.fsdecode(arg), (_ROOT,)):
                    refuse(event, os.fsdecode(arg))

    def hook(event, args):
        if busy:
            return
        busy.append(1)
        try:
            check(event, args)
        finally:
            busy.pop()

    return hook


def _run():
    with open("main.py", encoding="utf-8") as f:
        code = compile(f.read(), "main.py", "exec")
    sys.addaudithook(_make_hook())
    exec(code, {"__name__": "__main__", "__file__": "main.py", "__builtins__": __builtins__})


if __name__ == "__main__":  # run by `python -c`; importing this module does nothing
    _run()
