"""Review store under load: 1M queued items in PostgreSQL, concurrent simulated reviewers.

Each reviewer is a thread with its own session that loops `next_item` + `submit` (and now and
then reads a queue page at a random depth) for a fixed time. Afterwards every decision is
counted in three places (the reviewers' own tallies, the responses table, the items' counters)
and the audit chain is verified. Side by side: keyset paging against OFFSET paging at the same
depths, on the same table.

    python benchmarks/review/bench_store.py --items 1000000 --reviewers 20 --seconds 60

Without --db it starts its own PostgreSQL 15 (default durability settings: fsync and
synchronous_commit on) in a temp folder and removes it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review import audit, db, queue, users
from synth_pipeline.review.models import Item, Response, User, VersionCounter
from synth_pipeline.review.routing import EnqueueRow

PG_BIN = Path(os.environ.get("SYNTH_PG_BIN", "/usr/lib/postgresql/15/bin"))
VERSION = "bench"
BUILD_CHUNK = 100_000


@contextmanager
def postgres(synchronous_commit: str = "on") -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 with default durability; yields a database URL."""
    root = Path(tempfile.mkdtemp(prefix="review-bench-pg-"))
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    subprocess.run([*run_as, str(PG_BIN / "initdb"), "-D", str(root / "data"), "-U", user, "-A", "trust",
                    "-E", "UTF8", "--no-locale"], check=True, stdout=subprocess.DEVNULL)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*run_as, str(PG_BIN / "postgres"), "-D", str(root / "data"), "-h", "127.0.0.1",
                             "-p", str(port), "-k", str(root), "-c", "max_connections=100",
                             "-c", "shared_buffers=512MB", "-c", f"synchronous_commit={synchronous_commit}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import psycopg2

        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg2.connect(host="127.0.0.1", port=port, user=user, dbname="postgres").close()
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"postgresql+psycopg2://{user}@127.0.0.1:{port}/postgres"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def build(engine: sa.Engine, items: int) -> float:
    """Queue `items` rows straight in SQL (generate_series): 10 % need two reviewers, 2 % are gold."""
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM review_version_counters WHERE version = :v"), {"v": VERSION})
    for lo in range(1, items + 1, BUILD_CHUNK):
        hi = min(items, lo + BUILD_CHUNK - 1)
        with engine.begin() as conn:
            conn.execute(sa.text("""
                INSERT INTO review_items (version, row_id, row_version, seq, batch_no, kind, record, prelabel,
                    flags, lineage, route, quota, submitted, is_gold, gold, state, created_at)
                SELECT :v, 'row-' || g, 1, g, (g - 1) / 100 + 1, 'instruction',
                    json_build_object('id', 'row-' || g, 'instruction', 'Explain item ' || g || ' briefly.',
                                      'input', '', 'output', repeat('A plausible answer. ', 12),
                                      'metadata', json_build_object('domain', 'science')),
                    json_build_object('scores', json_build_object('factual_accuracy', 4, 'instruction_adherence', 4,
                                      'coherence_fluency', 4, 'safety_compliance', 5, 'format_compliance', 4),
                                      'mean', 4.2, 'rationale', 'fine'),
                    '[]'::json, json_build_object('seed_ids', json_build_array('s1'), 'method', 'self_instruct'),
                    'human', CASE WHEN g % 10 = 0 THEN 2 ELSE 1 END, 0, g % 50 = 25,
                    CASE WHEN g % 50 = 25 THEN '{"decision": "accept", "scores": {}}'::json END, 'open', now()
                FROM generate_series(:lo, :hi) AS g
            """), {"v": VERSION, "lo": lo, "hi": hi})
        print(f"  queued {hi:,} items ({time.perf_counter() - start:.0f} s)", flush=True)
    with engine.begin() as conn:
        conn.execute(sa.insert(VersionCounter).values(version=VERSION, last_seq=items,
                                                      last_batch=(items - 1) // 100 + 1))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE review_items"))
    return time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50_ms": round(pct(values, 0.50), 2), "p95_ms": round(pct(values, 0.95), 2),
            "p99_ms": round(pct(values, 0.99), 2), "max_ms": round(max(values, default=0) * 1000, 2)}


def reviewers_run(Session, reviewers: list[User], seconds: float, items: int, think: float = 0.0) -> dict:
    lat_next: list[float] = []
    lat_submit: list[float] = []
    lat_page: list[float] = []
    tallies = [0] * len(reviewers)
    quota_full = [0] * len(reviewers)
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(reviewers))
    scores = {dim: 4 for dim in DIMENSIONS}

    def work(k: int, reviewer: User) -> None:
        rng = random.Random(k)
        mine_next, mine_submit, mine_page = [], [], []
        try:
            with Session() as session:
                barrier.wait()
                stop = time.monotonic() + seconds
                i = 0
                while time.monotonic() < stop:
                    i += 1
                    if i % 10 == 0:
                        t = time.perf_counter()
                        queue.queue_page(session, reviewer, VERSION, after_seq=rng.randrange(items), limit=50)
                        mine_page.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    item = queue.next_item(session, reviewer, VERSION)
                    mine_next.append(time.perf_counter() - t)
                    if item is None:
                        break
                    if think:  # the reviewer reads the item: exponential, mean `think` seconds
                        time.sleep(min(rng.expovariate(1 / think), 5 * think))
                    decision = rng.choices(["accept", "edit", "reject"], weights=[7, 2, 1])[0]
                    extra = {"edited_record": {"output": f"edited by {reviewer.name}"}} if decision == "edit" else {}
                    t = time.perf_counter()
                    try:
                        queue.submit(session, item.id, reviewer, decision, scores,
                                     reason="off topic" if decision == "reject" else None, seconds=1.0, **extra)
                    except queue.QuotaFull:
                        quota_full[k] += 1
                        continue
                    mine_submit.append(time.perf_counter() - t)
                    tallies[k] += 1
        except Exception as exc:  # noqa: BLE001 - reported in the results
            errors.append(f"{reviewer.name}: {type(exc).__name__}: {exc}")
        with lock:
            lat_next.extend(mine_next)
            lat_submit.extend(mine_submit)
            lat_page.extend(mine_page)

    threads = [threading.Thread(target=work, args=(k, r)) for k, r in enumerate(reviewers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    done = sum(tallies)
    return {"elapsed_s": round(elapsed, 2), "decisions": done, "decisions_per_s": round(done / elapsed, 1),
            "quota_full": sum(quota_full), "errors": errors, "next_item": summary(lat_next),
            "submit": summary(lat_submit), "queue_page": summary(lat_page)}


def paging(engine: sa.Engine, items: int, repeats: int = 5) -> list[dict]:
    """The same 50-item page by key and by OFFSET at several depths."""
    rows = []
    with engine.connect() as conn:
        for depth in (0, items // 10, items // 2, items - 100):
            keyset, offset = [], []
            for _ in range(repeats):
                t = time.perf_counter()
                a = conn.execute(sa.select(Item.id).where(Item.version == VERSION, Item.seq > depth)
                                 .order_by(Item.seq).limit(50)).scalars().all()
                keyset.append(time.perf_counter() - t)
                t = time.perf_counter()
                b = conn.execute(sa.select(Item.id).where(Item.version == VERSION).order_by(Item.seq)
                                 .offset(depth).limit(50)).scalars().all()
                offset.append(time.perf_counter() - t)
                assert a == b
            k, o = statistics.median(keyset) * 1000, statistics.median(offset) * 1000
            rows.append({"depth": depth, "keyset_ms": round(k, 2), "offset_ms": round(o, 2),
                         "offset_over_keyset": round(o / k, 1)})
    return rows


def enqueue_batches(Session, batches: int, size: int = 100) -> dict:
    lat = []
    with Session() as session:
        for b in range(batches):
            rows = [EnqueueRow({"id": f"late-{b}-{i}", "instruction": "Summarise.", "input": "", "output": "Done.",
                                "metadata": {}}, "human", {"mean": 4.0}, [], {}) for i in range(size)]
            t = time.perf_counter()
            queue.enqueue(session, VERSION, rows, overlap=0.1, reviewers_per_item=2)
            lat.append(time.perf_counter() - t)
    return summary(lat)


def count(engine: sa.Engine, Session, reported: int) -> dict:
    with Session() as session:
        responses = session.execute(sa.select(sa.func.count()).select_from(Response)
                                    .where(Response.status == "submitted")).scalar()
        distinct = session.execute(sa.select(sa.func.count()).select_from(
            sa.select(Response.item_id, Response.reviewer_id).where(Response.status == "submitted").distinct()
            .subquery())).scalar()
        counters = session.execute(sa.select(sa.func.coalesce(sa.func.sum(Item.submitted), 0))).scalar()
        over = session.execute(sa.select(sa.func.count()).select_from(Item)
                               .where(Item.submitted > Item.quota)).scalar()
        submits = session.execute(sa.select(sa.func.count()).select_from(audit.AuditEntry)
                                  .where(audit.AuditEntry.action == "response.submit")).scalar()
        t = time.perf_counter()
        verified = audit.verify(session)
        verify_s = time.perf_counter() - t
    return {"reported_by_reviewers": reported, "responses_submitted": responses, "distinct_item_reviewer": distinct,
            "item_counters": int(counters), "items_over_quota": over, "audit_submit_entries": submits,
            "audit_ok": verified.ok, "audit_entries": verified.entries, "audit_verify_s": round(verify_s, 2),
            "none_lost_or_duplicated": reported == responses == distinct == counters == submits and over == 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--db", help="an empty PostgreSQL database URL (default: start a server)")
    parser.add_argument("--synchronous-commit", choices=["on", "off"], default="on",
                        help="for the server this script starts: off shows what the WAL flush at commit costs")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a reviewer spends on an item between next and submit (0: closed loop, "
                        "every reviewer submits as fast as the store answers)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    with (contextmanager(lambda: iter([args.db]))() if args.db else postgres(args.synchronous_commit)) as url:
        db.migrate(url)
        engine = db.make_engine(url, pool_size=args.reviewers + 5, max_overflow=5)
        Session = db.session_factory(engine)
        with engine.connect() as conn:
            prebuilt = conn.execute(sa.select(VersionCounter.last_seq)
                                    .where(VersionCounter.version == VERSION)).scalar()
        if prebuilt == args.items:  # a copy of a database this script built before (CREATE DATABASE ... TEMPLATE)
            print(f"reusing {args.items:,} queued items", flush=True)
            build_s = None
        else:
            print(f"building {args.items:,} items ...", flush=True)
            build_s = round(build(engine, args.items), 1)
        with Session() as session:
            shared = users.hash_password("bench")
            reviewers = [User(name=f"rev{i}", role="reviewer", password_hash=shared, active=True, failed_logins=0)
                         for i in range(args.reviewers)]
            session.add_all(reviewers)
            session.commit()
        print(f"{args.reviewers} reviewers for {args.seconds:.0f} s ...", flush=True)
        load_before = os.getloadavg()
        run = reviewers_run(Session, reviewers, args.seconds, args.items, args.think)
        load_after = os.getloadavg()
        print("paging side by side ...", flush=True)
        pages = paging(engine, args.items)
        print("enqueue micro-batches ...", flush=True)
        enq = enqueue_batches(Session, 20)
        counts = count(engine, Session, run["decisions"])
        engine.dispose()
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": {
                  "cpus": os.cpu_count(), "python": platform.python_version(),
                  "load_avg_before": [round(x, 1) for x in load_before],
                  "load_avg_after": [round(x, 1) for x in load_after]},
              "items": args.items, "reviewers": args.reviewers, "think_s": args.think, "build_s": build_s, "run": run,
              "paging": pages, "enqueue_100_rows": enq, "counts": counts}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
