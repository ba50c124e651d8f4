"""What a run's page says of its numbers besides the notebook: the sources behind them, when their data last
changed, how to cite the report, and the files the run wrote, to download.

Everything comes from the run's own description (see :meth:`analysis.studies.base.Study.description`), the
files beside it and ``CITATION.cff``; nothing from the clock or from git, so a rebuild writes the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from analysis.numbers import date_words
from analysis.paths import CITATION_FILE, FIGURES_FOLDER, RUN_DESCRIPTION

#: What each kind of file a run writes is, for its download link.
FILE_KINDS = {".png": "chart, PNG", ".svg": "chart, SVG", ".csv": "table, CSV", ".json": "numbers, JSON"}


def described(figures: Path) -> dict[str, Any]:
    """The description a run wrote into ``figures`` (empty when it wrote none, or none that parses)."""
    path = figures / RUN_DESCRIPTION
    try:
        value = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def citation(path: Path = CITATION_FILE) -> str:
    """How to cite the report, in one line built from ``CITATION.cff``: authors, title, version, licence and
    where the code is (empty when the file is missing)."""
    try:
        # What: every value as the text written (a version 1.10 stays 1.10, not the number 1.1).
        cff = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except (OSError, yaml.YAMLError):
        return ""
    if not isinstance(cff, dict):
        return ""
    authors = ", ".join(
        str(author.get("name") or " ".join(str(author.get(k, "")) for k in ("given-names", "family-names")).strip())
        for author in cff.get("authors") or []
        if isinstance(author, dict)
    )
    parts = [authors, str(cff.get("title", "")), f"Version {cff['version']}" if cff.get("version") else ""]
    parts += [f"Licence: {cff['license']}" if cff.get("license") else "", str(cff.get("repository-code", ""))]
    return ". ".join(part.strip().rstrip(".") for part in parts if part.strip()) + "."


def _web_address(url: object) -> str:
    """``url`` when it is an http or https address (anything else is shown as no link)."""
    text = str(url or "").strip()
    return text if urlsplit(text).scheme in ("http", "https") and urlsplit(text).netloc else ""


def downloads(figures: Path, run: str) -> list[dict[str, str]]:
    """A link to every file the run wrote into ``figures``, relative to the run's pages (which sit beside the
    report's ``figures`` folder): ``label`` (the file's name and kind) and ``href``, in file-name order."""
    if not figures.is_dir():
        return []
    return [
        {"label": f"{path.name} ({FILE_KINDS.get(path.suffix, 'file')})",
         "href": f"{FIGURES_FOLDER}/{quote(run, safe='')}/{quote(path.name, safe='')}"}
        for path in sorted(figures.iterdir()) if path.is_file() and not path.name.startswith(".")
    ]  # fmt: skip


def json_ld(objects: object) -> str:
    """``objects`` as the text of a ``<script type="application/ld+json">`` block: JSON in which ``<``, ``>`` and
    ``&`` are written as ``\\u`` escapes, so no text from the data can end the block or open a tag ("" when
    ``objects`` is not a non-empty list)."""
    if not isinstance(objects, list) or not objects:
        return ""
    text = json.dumps(objects, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def corrections_of(corrections: Any, run: str) -> list[dict[str, str]]:
    """The corrections (rows of :func:`analysis.data.load.load_corrections`) of the numbers of ``run``: those whose
    ``number_id`` starts with the run's name and a dot, oldest first, each with its date in words and its source's
    address when that is an http(s) one."""
    picked = corrections[corrections["number_id"].str.startswith(f"{run}.")]
    return [
        {key: str(row[key]) for key in ("date", "number_id", "old_value", "new_value", "reason", "publisher", "title")}
        | {"date_words": date_words(str(row["date"])), "url": _web_address(row["url"])}
        for _, row in picked.sort_values(["date", "number_id"], kind="stable").iterrows()
    ]


def about(figures: Path, run: str, corrections: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """What the footer of a run's pages shows (see the ``offline`` template): ``sources`` (each ``title``,
    ``publisher``, ``author``, ``published`` and ``url``, an http(s) address or blank), ``data_changed``
    (``date`` and ``words``: the newest of the sources' dates and the corrections' dates; or ``None``),
    ``cite`` (see :func:`citation`), ``downloads``, ``json_ld`` (the run's structured data as the text of a
    JSON-LD block, see :func:`json_ld`; "" without any) and ``corrections`` (see :func:`corrections_of`)."""
    description = described(figures)
    sources = [
        {key: str(source.get(key, "")) for key in ("title", "publisher", "author", "published")}
        | {"url": _web_address(source.get("url"))}
        for source in description.get("sources", [])
        if isinstance(source, dict)
    ]
    changed = description.get("data_changed")
    changed = changed if isinstance(changed, dict) else None
    # What: a correction of one of the page's numbers is a change to its data too.
    latest = max((fix for fix in corrections or []), key=lambda fix: fix["date"], default=None)
    if latest is not None and (changed is None or str(latest["date"]) > str(changed.get("date", ""))):
        changed = {"date": latest["date"], "words": latest["date_words"]}
    return {
        "sources": sources,
        "data_changed": changed,
        "cite": citation(),
        "downloads": downloads(figures, run),
        "json_ld": json_ld(description.get("structured_data")),
        "corrections": corrections or [],
    }
