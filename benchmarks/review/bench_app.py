"""Review web app under load over HTTP, side by side with the same work done through the store directly.

A PostgreSQL store with N queued items; first `bench_store`'s reviewers loop `next_item` +
`submit` in-process (the baseline), then as many reviewers drive `synth-pipeline review serve`
(a uvicorn subprocess) over HTTP: `GET /api/v1/next`, `POST /api/v1/items/{id}/responses`, and
every few rounds the HTML item page and a queue page at a random depth (signed-in with a cookie).
Every decision is counted afterwards and the audit chain verified (bench_store.count). The app's
CPU time (its processes, user + system) over the HTTP run, per request, is reported beside the
latencies: unlike them, it hardly depends on how busy the machine is.

    python benchmarks/review/bench_app.py --items 200000 --reviewers 20 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
import bench_store  # noqa: E402 - the store benchmark's server, build, summary and count

from synth_pipeline.judge.rubric import DIMENSIONS  # noqa: E402
from synth_pipeline.review import db, users  # noqa: E402
from synth_pipeline.review.models import User, VersionCounter  # noqa: E402

SECRET = "bench-secret-key-for-the-review-app-0123456789"
PASSWORD = "bench password 0123"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of the server process and its workers so far."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in (proc, *proc.children(recursive=True)):
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


@contextmanager
def app_server(url: str, workers: int = 1):
    """`synth-pipeline review serve` on a free port, as its own process; yields (base URL, pid)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SYNTH_REVIEW_SECRET_KEY": SECRET, "SYNTH_REVIEW_ADMIN_PASSWORD": PASSWORD}
    command = [sys.executable, "-m", "synth_pipeline.cli", "review", "serve", "--db", url, "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                if httpx.get(f"{base}/login").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the review app did not start: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def make_reviewers(Session, prefix: str, n: int) -> tuple[list[User], list[str]]:
    with Session() as session:
        shared = users.hash_password(PASSWORD)
        people = [User(name=f"{prefix}{i}", role="reviewer", password_hash=shared, active=True, failed_logins=0)
                  for i in range(n)]
        session.add_all(people)
        session.commit()
        tokens = [users.issue_token(session, person, "bench") for person in people]
    return people, tokens


def http_run(base: str, people: list[User], tokens: list[str], seconds: float, items: int,
             think: float = 0.0) -> dict:
    lat = {"next": [], "submit": [], "item_page": [], "queue_page": []}
    tallies, quota_full, errors = [0] * len(people), [0] * len(people), []
    lock = threading.Lock()
    started: list[float] = []  # when every reviewer has signed in and the clock starts
    barrier = threading.Barrier(len(people), action=lambda: started.append(time.perf_counter()))
    scores = dict.fromkeys(DIMENSIONS, 4)

    def work(k: int) -> None:
        rng = random.Random(k)
        mine = {key: [] for key in lat}
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                token = CSRF.search(client.get("/login").text).group(1)
                signed_in = client.post("/login", data={"name": people[k].name, "password": PASSWORD,
                                                        "csrf_token": token, "next": "/"})
                assert signed_in.status_code == 303, signed_in.text
                auth = {"Authorization": f"Bearer {tokens[k]}"}
                barrier.wait()
                stop, i = time.monotonic() + seconds, 0
                while time.monotonic() < stop:
                    i += 1
                    if i % 10 == 0:
                        t = time.perf_counter()
                        page = client.get("/queue", params={"version": bench_store.VERSION,
                                                            "after": rng.randrange(items)})
                        mine["queue_page"].append(time.perf_counter() - t)
                        assert page.status_code == 200, page.status_code
                    t = time.perf_counter()
                    got = client.get("/api/v1/next", params={"version": bench_store.VERSION}, headers=auth)
                    mine["next"].append(time.perf_counter() - t)
                    if got.status_code == 204:
                        break
                    item = got.json()
                    if think:  # the reviewer reads the item: exponential, mean `think` seconds
                        time.sleep(min(rng.expovariate(1 / think), 5 * think))
                    if i % 5 == 0:
                        t = time.perf_counter()
                        page = client.get(f"/items/{item['id']}")
                        mine["item_page"].append(time.perf_counter() - t)
                        assert page.status_code == 200, page.status_code
                    decision = rng.choices(["accept", "edit", "reject"], weights=[7, 2, 1])[0]
                    body = {"decision": decision, "scores": scores, "seconds": 1.0}
                    if decision == "edit":
                        body["edited_record"] = {"output": f"edited by {people[k].name}"}
                    if decision == "reject":
                        body["reason"] = "other"
                    t = time.perf_counter()
                    sent = client.post(f"/api/v1/items/{item['id']}/responses", json=body, headers=auth)
                    if sent.status_code == 409:
                        quota_full[k] += 1
                        continue
                    assert sent.status_code == 201, sent.text
                    mine["submit"].append(time.perf_counter() - t)
                    tallies[k] += 1
        except Exception as exc:  # noqa: BLE001 - reported in the results
            errors.append(f"{people[k].name}: {type(exc).__name__}: {exc}")
        with lock:
            for key in lat:
                lat[key].extend(mine[key])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(people))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started[0]
    done = sum(tallies)
    return {"elapsed_s": round(elapsed, 2), "decisions": done, "decisions_per_s": round(done / elapsed, 1),
            "quota_full": sum(quota_full), "errors": errors,
            **{key: bench_store.summary(values) for key, values in lat.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a reviewer spends on an item (0: closed loop, as fast as answered)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the app")
    parser.add_argument("--skip-store", action="store_true", help="only the app over HTTP (no in-process baseline)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    with bench_store.postgres() as url:
        db.migrate(url)
        engine = db.make_engine(url, pool_size=args.reviewers + 5, max_overflow=5)
        Session = db.session_factory(engine)
        print(f"building {args.items:,} items ...", flush=True)
        build_s = round(bench_store.build(engine, args.items), 1)
        with engine.connect() as conn:
            assert conn.execute(sa.select(VersionCounter.last_seq)).scalar() == args.items
        store_run = None
        if not args.skip_store:
            store_people, _ = make_reviewers(Session, "store", args.reviewers)
            print(f"store: {args.reviewers} reviewers for {args.seconds:.0f} s ...", flush=True)
            store_run = bench_store.reviewers_run(Session, store_people, args.seconds, args.items, args.think)
        http_people, tokens = make_reviewers(Session, "http", args.reviewers)
        with app_server(url, args.workers) as (base, pid):
            print(f"app over HTTP: {args.reviewers} reviewers for {args.seconds:.0f} s ...", flush=True)
            load_before = os.getloadavg()
            cpu_before = server_cpu_s(pid)
            app_run = http_run(base, http_people, tokens, args.seconds, args.items, args.think)
            cpu = server_cpu_s(pid) - cpu_before
            load_after = os.getloadavg()
        # every timed request plus each reviewer's sign-in (GET and POST /login)
        requests = sum(app_run[key]["n"] for key in ("next", "submit", "item_page", "queue_page")) + 2 * args.reviewers
        app_run["server_cpu_s"] = round(cpu, 2)
        app_run["server_cpu_ms_per_request"] = round(1000 * cpu / requests, 2) if requests else None
        app_run["workers"] = args.workers
        counts = bench_store.count(engine, Session, (store_run or {}).get("decisions", 0) + app_run["decisions"])
        engine.dispose()
    ratio = {key: round(app_run[key]["p95_ms"] / store_run[base_key]["p95_ms"], 2)
             for key, base_key in (("next", "next_item"), ("submit", "submit"))} if store_run else None
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_avg_before": [round(x, 1) for x in load_before],
                          "load_avg_after": [round(x, 1) for x in load_after]},
              "items": args.items, "reviewers": args.reviewers, "think_s": args.think, "build_s": build_s,
              "store": store_run,
              "app_http": app_run, "p95_app_over_store": ratio, "counts": counts}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
