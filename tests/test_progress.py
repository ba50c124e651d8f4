"""Progress of a batch: a tqdm bar on a terminal, plain lines with the counts and time left elsewhere."""

from __future__ import annotations

import io

from analysis.pipeline.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_say_done_failed_skipped_running_and_time_left() -> None:
    lines: list[str] = []
    progress = Progress(3, skipped=5, say=lines.append, stream=io.StringIO())
    progress.stage("a", "executing")
    progress.stage("b", "executing")
    progress.finished("a", True, 2.0)
    progress.finished("b", False, 1.0, "failed in cell 3: ValueError: \x1b[2J")
    progress.close()
    assert lines[:2] == ["  a: executing", "  b: executing"]
    assert lines[2].startswith("  a: done in 2.0 s [1/3: 1 done, 0 failed, 5 skipped, 1 running; about ")
    assert lines[3].startswith("  b: FAILED in 1.0 s [2/3: 1 done, 1 failed, 5 skipped, 0 running; about ")
    assert lines[3].endswith(" left]: failed in cell 3: ValueError: \x1b[2J"), "the caller's say escapes it"


def test_a_terminal_gets_a_bar_redrawn_in_place_and_failures_as_lines() -> None:
    lines: list[str] = []
    screen = Terminal()
    progress = Progress(2, skipped=0, say=lines.append, stream=screen)
    progress.stage("a", "executing")
    progress.finished("a", False, 1.0, "failed in cell 3: ValueError: \x1b[2J")
    progress.close()
    drawn = screen.getvalue()
    assert "\r" in drawn and "failed=1" in drawn
    assert "a: FAILED after 1.0 s: failed in cell 3: ValueError: \\x1b[2J" in drawn, "escaped for the terminal"
    assert lines == [], "no per-stage lines under the bar"
