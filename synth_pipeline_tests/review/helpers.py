"""Rows, scores and users for the review store tests."""

from __future__ import annotations

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review import users
from synth_pipeline.review.models import User
from synth_pipeline.review.routing import EnqueueRow


def scores(value: int = 4, **override: int) -> dict[str, int]:
    return {**{dim: value for dim in DIMENSIONS}, **override}


def instruction(i: int | str, output: str = "an answer") -> dict:
    return {"id": f"row-{i}", "instruction": f"task {i}", "input": "", "output": output,
            "metadata": {"domain": "math", "scores": {"factual_accuracy": 4}}}


def rows(n: int, route: str = "human", start: int = 0) -> list[EnqueueRow]:
    return [EnqueueRow(instruction(i), route, {"scores": scores(), "mean": 4.0, "rationale": "fine"}, [],
                       {"seed_ids": ["s1"], "parent_id": None, "method": "self_instruct"})
            for i in range(start, start + n)]


def make_users(session, n: int, role: str = "reviewer", prefix: str = "rev") -> list[User]:
    """`n` users sharing one password hash (argon2 is slow on purpose; these tests are not about it)."""
    shared = users.hash_password("password")
    made = [User(name=f"{prefix}{i}", role=role, password_hash=shared, active=True, failed_logins=0)
            for i in range(n)]
    session.add_all(made)
    session.commit()
    return made
