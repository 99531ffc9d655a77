"""Simulated reviewers: people working a version's queue through the store's queue API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from synth_pipeline.judge.rubric import DIMENSIONS
from synth_pipeline.review import queue, users
from synth_pipeline.review.models import Item, User

Decide = Callable[[Item, str], dict[str, Any]]


def scores(value: int = 4, **override: int) -> dict[str, int]:
    return {**dict.fromkeys(DIMENSIONS, value), **override}


def make_users(sessions: sessionmaker[Session], names: list[str], role: str = "reviewer") -> list[User]:
    with sessions() as session:
        return [users.create_user(session, name, role, f"pw-{name}-long-enough") for name in names]


def work_queue(sessions: sessionmaker[Session], version: str, reviewers: list[User], decide: Decide,
               seconds: float = 12.0) -> int:
    """Every reviewer takes items in turn until none is left for anyone; returns the responses submitted."""
    submitted, active = 0, list(reviewers)
    while active:
        for reviewer in list(active):
            with sessions() as session:
                item = queue.next_item(session, reviewer, version)
                if item is None:
                    active.remove(reviewer)
                    continue
                answer = decide(item, reviewer.name)
                queue.submit(session, item.id, reviewer, seconds=seconds + submitted % 5, **answer)
                submitted += 1
    return submitted


def adjudicate_all(sessions: sessionmaker[Session], version: str, adjudicator: User,
                   decide: Callable[[Item], dict[str, Any]]) -> int:
    done = 0
    with sessions() as session:
        while page := queue.disputed_page(session, version):
            for disputed in page:
                queue.adjudicate(session, disputed.item.id, adjudicator, **decide(disputed.item))
                done += 1
    return done
