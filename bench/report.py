"""Shared output of the benchmarks: rich tables on the terminal, a Markdown section in the docs.

    from bench.report import Report

    report = Report("Gateway overhead vs LiteLLM proxy", command=".venv/bin/python -m bench.x")
    report.table(["level", "rps"], [["c=1", "93.1"]], caption="wrk, 10 s per level")
    report.text("Ratios are ours / LiteLLM.")
    report.emit(write=True)  # print everything; append one section to docs/benchmarks.md

Every section starts with the date (UTC), the machine (nproc, CPU model, RAM), the git commit,
the command that reproduces it and the load average at start and end: the machine is shared,
so a reader can judge how noisy the numbers were. Sections are appended (never rewritten), so
several scripts can write to the same file.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
INTRO = """# Benchmarks

Measured numbers for hybrid-gateway, each section appended by one script under `bench/` and
reproducible with the one command it shows (`make bench` runs them all; it takes many minutes
and is not part of `make test`). Every section states the date, machine, git commit and load:
the development machines are small (2 cores) and shared, so absolute numbers are noisy. Compare
within one section: each compares alternatives side by side in the same run, and the ratios are
the result. Newest sections are at the bottom.
"""

console = Console(width=None if sys.stdout.isatty() else 160)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def machine() -> str:
    """`2 × Intel(R) Xeon(R) Processor, 23.5 GiB RAM, Linux 6.1, Python 3.11.7`."""
    return (
        f"{os.cpu_count()} × {cpu_model()}, {ram_gib():.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def git_commit() -> str:
    """Short commit hash, with `+dirty` when the working tree has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def command_line(module: str) -> str:
    """The command that reproduces this run: `.venv/bin/python -m <module> <the same args>`."""
    return " ".join([".venv/bin/python", "-m", module, *map(shlex.quote, sys.argv[1:])])


def fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    """A number for a table cell; `–` for a missing one."""
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:,.{digits}f}{suffix}"


def ratio(ours: float | None, theirs: float | None, digits: int = 2) -> str:
    """`ours / theirs` formatted as `12.3×`; `–` when either is missing or theirs is 0."""
    if ours is None or theirs is None or theirs == 0 or ours != ours or theirs != theirs:
        return "–"
    return f"{ours / theirs:.{digits}f}×"


class Report:
    """One benchmark's output: tables and notes, printed and appended as one Markdown section."""

    def __init__(self, title: str, *, command: str) -> None:
        self.title = title
        self.command = command
        self.started = dt.datetime.now(dt.UTC)
        self.load_start = load_average()
        self.commit = git_commit()  # at the start: the code that was measured
        self._blocks: list[tuple[str, object]] = []

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        caption: str | None = None,
    ) -> None:
        self._blocks.append(("table", (list(headers), [list(map(str, r)) for r in rows], caption)))

    def text(self, markdown: str) -> None:
        self._blocks.append(("text", markdown.strip()))

    def markdown(self) -> str:
        lines = [
            f"## {self.title} ({self.started:%Y-%m-%d %H:%M} UTC)",
            "",
            f"- command: `{self.command}`",
            f"- machine: {machine()}",
            f"- commit: `{self.commit}` (at the start of the run)",
            f"- load average (1/5/15 min): {self.load_start} at start, {load_average()} at end "
            f"on {os.cpu_count()} cores — the machine is shared with other work, so compare "
            "within this section, not across sections",
            "",
        ]
        for kind, block in self._blocks:
            if kind == "text":
                lines += [str(block), ""]
                continue
            headers, rows, caption = block  # type: ignore[misc]
            if caption:
                lines += [f"*{caption}*", ""]
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("|" + "|".join("---" for _ in headers) + "|")
            lines += ["| " + " | ".join(row) + " |" for row in rows]
            lines.append("")
        return "\n".join(lines)

    def print(self) -> None:
        console.rule(f"[bold]{self.title}")
        for kind, block in self._blocks:
            if kind == "text":
                console.print(str(block), markup=False, highlight=False)
                continue
            headers, rows, caption = block  # type: ignore[misc]
            table = Table(*headers, title=caption, title_justify="left")
            for row in rows:
                table.add_row(*row)
            console.print(table)
        console.print(f"command: {self.command}", markup=False, highlight=False)

    def emit(self, *, write: bool = True) -> None:
        """Print the tables; append the section to docs/benchmarks.md unless `write` is false."""
        self.print()
        if write:
            append_section(self.markdown())
            console.print(f"appended to {DOCS.relative_to(ROOT)}", highlight=False)


def append_section(markdown: str, path: Path = DOCS) -> None:
    """Append one section (creating the file with its intro first); never rewrites the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(INTRO)
    except FileExistsError:
        pass
    with path.open("a", encoding="utf-8") as out:
        out.write("\n" + markdown.rstrip("\n") + "\n")
