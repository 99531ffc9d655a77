"""Test runner placed after the generated code in a sandboxed main.py (stdlib only, no package imports).

The verifier prepends `CODE`, `TESTS` and `REPORT` (a per-run nonce) as literals. Each test is an
assert run on its own, so one failing test does not hide the others; the tally is printed last,
after the nonce, as one JSON line.
"""

import json
import sys
import traceback


def main():
    namespace = {"__name__": "solution"}
    passed, failures = 0, []
    try:
        exec(compile(CODE, "solution.py", "exec"), namespace)  # noqa: F821 (prepended by the verifier)
    except BaseException as exc:  # the code itself fails: every test fails
        failures.append(f"code: {type(exc).__name__}: {exc}"[:300])
    else:
        for i, test in enumerate(TESTS):  # noqa: F821
            try:
                exec(compile(test, f"test_{i}", "exec"), dict(namespace))
                passed += 1
            except BaseException as exc:
                failures.append(f"test {i}: {type(exc).__name__}: {exc or traceback.format_exc(limit=1)}"[:300])
    sys.stdout.flush()
    print(REPORT, json.dumps({"passed": passed, "total": len(TESTS), "failures": failures[:5]}))  # noqa: F821


if __name__ == "__main__":  # the sandboxed main.py; importing this module does nothing
    main()
