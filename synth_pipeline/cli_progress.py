"""The CLI's progress bars: one per phase, with rows done of rows in, rate, ETA, LLM calls and cost."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from synth_pipeline.progress import ProgressUpdate, format_rate

STATUS_STYLE = {"done": "[green]done[/]", "failed": "[bold red]failed[/]",
                "gate failed": "[bold red]gate failed[/]", "not run": "[dim]not run[/]"}
_MARK = {"done": "[green]✓[/]", "failed": "[red]✗[/]", "gate failed": "[red]✗[/]"}


class _Count(ProgressColumn):
    def render(self, task: Task) -> Text:
        total = "?" if task.total is None else f"{int(task.total):,}"
        return Text(f"{int(task.completed):,}/{total} {task.fields.get('unit', 'rows')}")


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.speed
        if task.finished or not speed:
            return Text("")
        return Text(format_rate(speed))


class _Llm(ProgressColumn):
    def render(self, task: Task) -> Text:
        calls, cost = task.fields.get("calls"), task.fields.get("cost_usd")
        if calls is None:
            return Text("")
        return Text(f"{calls:,} LLM calls ${cost or 0:.4f}")


class PhaseBars:
    """A `ProgressUpdate` sink that draws a bar per phase on `console` (use as a context manager)."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), _Count(), _Rate(),
            TimeRemainingColumn(), TimeElapsedColumn(), _Llm(),
            console=console, refresh_per_second=4,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> PhaseBars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, update: ProgressUpdate) -> None:
        task = self.tasks.get(update.phase)
        if task is None:
            task = self.tasks[update.phase] = self.progress.add_task(
                f"  {update.phase}", total=update.total, unit=update.unit, calls=None, cost_usd=None)
        fields: dict[str, Any] = {"unit": update.unit}
        if update.calls is not None:
            fields.update(calls=update.calls, cost_usd=update.cost_usd)
        if update.finished:  # the runner's end of the phase, counted in rows whatever the phase's unit was
            mark = _MARK.get(update.status or "done", "")
            if update.total is None:  # no count from the runner (it failed): the bar stays where it stopped
                current = next(t for t in self.progress.tasks if t.id == task)
                total = current.total if current.total is not None else current.completed
                self.progress.update(task, description=f"{mark} {update.phase}", total=total)
            else:
                self.progress.update(task, description=f"{mark} {update.phase}", total=update.total,
                                     completed=update.done, **fields)
            self.progress.stop_task(task)
            return
        self.progress.update(task, total=update.total, completed=update.done, **fields)
