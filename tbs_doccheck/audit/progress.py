"""The progress display: a rich bar on stderr while the audit checks files and writes its outputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self


class _Progress:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self._bar = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )

    def __enter__(self) -> Self:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def task(self, description: str, total: int, completed: int = 0) -> Callable[[int], None]:
        """Adds a bar; returns the function that advances it."""
        if self._bar is None:
            return lambda n=1: None
        bar = self._bar
        task_id = bar.add_task(description, total=total, completed=completed)
        return lambda n=1: bar.advance(task_id, n)
