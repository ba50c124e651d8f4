"""The report's landing page, ``reports/index.html``.

A single static page that opens from the file system with no server and no
network: headline numbers, the claims check, every figure, links to each
run's rendered notebook, and the sources with their citations. Every string
that comes from the data is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

import pandas as pd

from analysis.claims import ClaimResult, claims_table
from analysis.execute import FULL_HTML, READER_HTML
from analysis.growth_report import change_text, p_text
from analysis.load import Dataset
from analysis.metrics import Growth
from analysis.runplan import Run

STYLE = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 70rem;
       padding: 1.5rem; color: #1f2d3d; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #c0392b; padding-bottom: 0.2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #d5dbe1; padding: 0.4rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f4f6; }
.verdict-supported { color: #1e7d32; font-weight: bold; }
.verdict-contradicted { color: #b71c1c; font-weight: bold; }
.verdict-not-checkable { color: #6d6d6d; font-weight: bold; }
#figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(30rem, 1fr)); gap: 1.2rem; }
#figures h2 { grid-column: 1 / -1; }
figure { margin: 0; } figure img { max-width: 100%; height: auto; border: 1px solid #e3e7eb; }
figcaption { font-size: 0.9rem; color: #4a5968; }
.headline li { margin-bottom: 0.4rem; } .muted { color: #6d7b88; font-size: 0.9rem; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def run_title(run: Run) -> str:
    """A reader's title for one run, from its notebook and parameters."""
    p = run.settings
    stem = run.notebook.stem
    if stem.startswith("02-growth"):
        return f"Growth in requests: {p['agency']}, {p['base_period']} to {p['compare_period']}"
    if stem.startswith("03-denial-rates"):
        return f"Denial rates: {p['agency']}"
    titles = {
        "01-data-overview": "What the dataset covers",
        "04-claims": "Published claims checked",
        "05-comparison": "Agencies side by side",
    }
    return titles.get(stem, run.name)


def _headlines(runs: Sequence[Run], merged: Mapping[str, dict]) -> list[str]:
    items = []
    for run in runs:
        results = merged.get(run.name, {}).get("results")
        p = run.settings
        if results is None:
            continue
        if run.notebook.stem.startswith("02-growth"):
            g = Growth(**results)
            counted = "own count" if p["reported_by"] == p["agency"] else f"count by {p['reported_by']}"
            bounds = (
                ""
                if g.rate_ratio_ci_low is None
                else f"; rate ratio {g.rate_ratio_ci_low:.2f} to "
                f"{'unbounded' if g.rate_ratio_ci_high is None else f'{g.rate_ratio_ci_high:.2f}'}, "
                f"{p_text(g.p_value)}"
            )
            items.append(
                f"<strong>{_e(p['agency'])}</strong> ({_e(counted)}): {g.base_requests:,} requests in "
                f"{_e(p['base_period'])}, {g.compare_requests:,} in {_e(p['compare_period'])}: "
                f"{_e(change_text(g))}{_e(bounds)}"
            )
        elif run.notebook.stem.startswith("03-denial-rates"):
            rated = [r for r in results if r["denial_rate"] is not None]
            if rated:
                last = rated[-1]
                items.append(
                    f"<strong>{_e(p['agency'])}</strong> declined {last['denial_rate']:.0%} of "
                    f"{last['requests']:,} requests in {_e(last['period'])} (exact 95% interval "
                    f"{last['ci_low']:.1%} to {last['ci_high']:.1%})"
                )
    return items


def _claims_rows(results: Sequence[ClaimResult], sources: pd.DataFrame) -> list[str]:
    rows = []
    for row in claims_table(list(results), sources).itertuples(index=False):
        css = "verdict-" + row.verdict.replace(" ", "-")
        rows.append(
            f"<tr><td>{_e(row.claim)}<br><span class='muted'>{_e(row.source)}</span></td>"
            f"<td>{_e(row.data)}</td><td class='{css}'>{_e(row.verdict)}</td>"
            f"<td>{_e(row.other_reporters.replace(' | ', '; '))}</td></tr>"
        )
    return rows


def _figures(runs: Sequence[Run], reports_dir: Path) -> list[str]:
    blocks = []
    for run in runs:
        folder = reports_dir / "figures" / run.name
        for png in sorted(folder.glob("*.png")) if folder.is_dir() else []:
            href = f"figures/{run.name}/{png.name}"
            blocks.append(
                f"<figure><img src='{_e(href)}' alt='{_e(run_title(run))}'>"
                f"<figcaption>{_e(run_title(run))}: <a href='{_e(run.name + READER_HTML)}'>report</a> · "
                f"<a href='{_e(run.name + FULL_HTML)}'>with code</a> · "
                f"<a href='{_e(href[:-4] + '.svg')}'>SVG</a></figcaption></figure>"
            )
    return blocks


def _sources(sources: pd.DataFrame) -> list[str]:
    items = []
    for s in sources.itertuples(index=False):
        author = f" ({_e(s.author)})" if s.author else ""
        link = f" <a href='{_e(s.url)}'>{_e(s.url)}</a>" if s.url else " <span class='muted'>no stable URL</span>"
        items.append(
            f"<li><code>{_e(s.source_id)}</code>: {_e(s.publisher)}{author}, “{_e(s.title)}”, "
            f"{_e(s.published)}, {_e(s.kind)}.{link}</li>"
        )
    return items


def build_index(
    dataset: Dataset,
    runs: Sequence[Run],
    merged: Mapping[str, dict],
    claim_results: Sequence[ClaimResult],
    reports_dir: Path,
) -> str:
    """The landing page as HTML text (deterministic: no dates or paths of the machine)."""
    requests = dataset.requests
    first, last = requests["period_start"].min().date(), requests["period_end"].max().date()
    run_rows = [
        f"<tr><td>{_e(run_title(run))}</td><td><code>{_e(run.notebook.name)}</code></td>"
        f"<td>{_e(', '.join(f'{k} = {v}' for k, v in run.parameters.items()) or 'defaults')}</td>"
        f"<td><a href='{_e(run.name + READER_HTML)}'>report</a> · <a href='{_e(run.name + FULL_HTML)}'>with code</a>"
        f" · <a href='{_e(run.name + '.ipynb')}'>notebook</a></td></tr>"
        for run in runs
    ]
    lists = {
        name: "\n".join(items)
        for name, items in {
            "headlines": [f"<li>{item}</li>" for item in _headlines(runs, merged)],
            "claims": _claims_rows(claim_results, dataset.sources),
            "figures": _figures(runs, reports_dir),
            "runs": run_rows,
            "sources": _sources(dataset.sources),
        }.items()
    }
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Immigration detainer requests to local police: report</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Immigration detainer requests to local police</h1>
<p class="muted">{len(requests)} sourced figures for {requests["agency"].nunique()} agencies
({_e("; ".join(sorted(set(requests["agency"]))))}) from {requests["reported_by"].nunique()} reporters, covering
{first} to {last}, drawn from {len(dataset.sources)} sources.
Every number on this page is computed from the project's raw data by <code>make report</code>.</p>
</header>
<main>
<section id="headline"><h2>Headline numbers</h2><ul class="headline">
{lists["headlines"]}
</ul></section>
<section id="claims"><h2>Published claims checked against the data</h2>
<table><thead><tr><th>claim</th><th>what the data give</th><th>verdict</th><th>with another reporter's count</th></tr>
</thead><tbody>
{lists["claims"]}
</tbody></table></section>
<section id="figures"><h2>Figures</h2>
{lists["figures"]}
</section>
<section id="reports"><h2>Rendered notebooks</h2>
<p class="muted">“report” hides the code for reading; “with code” shows every cell for review.</p>
<table><thead><tr><th>run</th><th>notebook</th><th>parameters</th><th>pages</th></tr></thead><tbody>
{lists["runs"]}
</tbody></table></section>
<section id="sources"><h2>Sources</h2><ul>
{lists["sources"]}
</ul></section>
</main>
</body>
</html>
"""
