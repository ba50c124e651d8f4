"""Screenshots of the report as Chromium shows it, on a laptop and on a phone: ``detainers report --screenshots``.

They show a reader what the pages look like before opening them (the README links them). Chromium
draws text with the machine's fonts, so a screenshot is not byte for byte the same on every machine:
a plain ``detainers report`` never writes them, and the committed ones change only when asked for.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from analysis.errors import ReportError
from analysis.files import hold, write_bytes_atomic
from analysis.paths import READER_HTML, SCREENSHOTS_FOLDER, ReportPaths
from analysis.pipeline.runplan import Run

#: The widths shown, in CSS pixels: a laptop and a phone.
WIDTHS = (1400, 390)
#: The height of each screenshot (the top of the page, as a reader first sees it).
HEIGHT = 900
#: Flags of a headless Chromium that connects to nothing.
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]


def pages_shown(runs: Sequence[Run]) -> dict[str, str]:
    """The pages photographed, by the name of their screenshots: the index, the first growth run's page and the
    first claims run's page of the plan (those the plan has)."""
    shown = {"index": "index.html"}
    for name, notebook in (("growth", "02-growth.ipynb"), ("claims", "04-claims.ipynb")):
        run = next((run for run in runs if run.notebook.name == notebook), None)
        if run is not None:
            shown[name] = run.name + READER_HTML
    return shown


def take(folders: ReportPaths, runs: Sequence[Run]) -> list[Path]:
    """Photograph :func:`pages_shown` at each of :data:`WIDTHS` into the reports folder's
    :data:`~analysis.paths.SCREENSHOTS_FOLDER` as ``NAME-WIDTH.png``; returns the files written.

    Raises
    ------
    ReportError
        When there is no Chromium (or no Playwright) to draw them with.
    OutputFolderError
        When another command is writing into the reports folder (the screenshots are taken holding it, as a report
        writes it).
    """
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise ReportError("--screenshots needs Chromium: install Debian's chromium package")
    try:
        import playwright.sync_api  # noqa: F401  (what: there to draw with, before the folder is held)
    except ImportError:
        raise ReportError("--screenshots needs Playwright: make install installs it") from None
    held = hold(folders.reports_dir, "--reports-dir")  # what: as a report writes it, so no report writes meanwhile
    try:
        return _photograph(chromium, folders, runs)
    finally:
        if held is not None:
            os.close(held)


def _photograph(chromium: str, folders: ReportPaths, runs: Sequence[Run]) -> list[Path]:
    """Draw each page of :func:`pages_shown` at each width with ``chromium`` and save it; returns the files."""
    from playwright import sync_api

    folder = folders.reports_dir / SCREENSHOTS_FOLDER
    written = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        try:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": HEIGHT})
                for name, href in pages_shown(runs).items():
                    page.goto((folders.reports_dir / href).as_uri(), wait_until="load")
                    path = folder / f"{name}-{width}.png"
                    write_bytes_atomic(path, page.screenshot(full_page=False))
                    written.append(path)
                page.close()
        finally:
            browser.close()
    return written
