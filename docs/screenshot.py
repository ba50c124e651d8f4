"""Save the landing page as Chromium shows it to docs/landing-page.png (the README's picture): `make screenshot`.

It needs Debian's chromium package; it reads reports/index.html and writes only docs/landing-page.png.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright import sync_api

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("error: no Chromium on this machine: install Debian's chromium package", file=sys.stderr)
        return 1
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((ROOT / "reports" / "index.html").as_uri(), wait_until="load")
        page.screenshot(path=str(ROOT / "docs" / "landing-page.png"), full_page=False)
        browser.close()
    print("wrote docs/landing-page.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
