"""A whole report built from data whose every text field is HTML, script or Markdown: nothing of it becomes markup.

The same report is built twice, once from plain names and once from hostile
ones in the same places. Parsed, every page of the two must have the same
elements, the same attributes and the same links; only the text may differ,
and the hostile text must show as text.
"""

from __future__ import annotations

import csv
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.paths import NOTEBOOKS_DIR
from analysis.pipeline.landing import build_index
from analysis.pipeline.pages import CONTENT_SECURITY_POLICY, content_security_policy

HOSTILE = {
    "AGENCY_A": 'ICE <img src=x onerror=alert(2)> [link](javascript:alert(1)) "Dept"',
    "AGENCY_B": "<script>alert(3)</script> ![img](https://evil.example/x.png) **County** _Jail_",
    "REPORTER": "<a href='https://evil.example'>Office</a> # not a heading | not | a table",
    "PLACE": "<iframe src=https://evil.example></iframe>, ST",
    "PUBLISHER": "Gazette <b>&amp;</b> <style>body{display:none}</style>",
    "TITLE": "[click me](https://evil.example) `code` <svg onload=alert(4)>",
    "AUTHOR": "<img src=https://evil.example/pixel.gif> ~~struck~~",
    "CLAIM": "Requests <script>alert(5)</script> rose [by](https://evil.example) 150 percent",
}
PLAIN = {key: f"Plain {key.title().replace('_', ' ')}" for key in HOSTILE}


def write_dataset(folder: Path, names: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    a, b, reporter = names["AGENCY_A"], names["AGENCY_B"], names["REPORTER"]
    rows = [
        [a, names["PLACE"], a, "detainer", "2020", "2020-01-01", "2020-12-31", "10", "0", "10", "src-one"],
        [a, names["PLACE"], a, "detainer", "2021", "2021-01-01", "2021-12-31", "25", "1", "24", "src-one;src-two"],
        [a, names["PLACE"], reporter, "detainer", "2021", "2021-01-01", "2021-12-31", "90", "", "", "src-two"],
        [b, names["PLACE"], b, "detainer", "2020", "2020-01-01", "2020-12-31", "5", "", "", "src-two"],
        [b, names["PLACE"], b, "detainer", "2021", "2021-01-01", "2021-12-31", "7", "", "", "src-two"],
    ]
    sources = [
        ["src-one", names["PUBLISHER"], names["TITLE"], names["AUTHOR"], "2022", "", "primary document", "primary"],
        [
            "src-two",
            names["PUBLISHER"],
            names["TITLE"],
            "",
            "2023-05",
            "https://example.org/a?b=1&c=2",
            "news report",
            "news",
        ],
    ]
    claims = [
        ["claim-one", names["CLAIM"], "pct_change", a, a, "detainer", "2020", "2021", "150", "0", "", "true", "src-two"]
    ]
    tables = {
        "detainer_requests.csv": (
            "agency,jurisdiction,reported_by,request_kind,period,period_start,period_end,requests,honored,declined,"
            "source_ids",
            rows,
        ),
        "sources.csv": ("source_id,publisher,title,author,published,url,kind,access", sources),
        "claims.csv": (
            "claim_id,claim,metric,agency,reported_by,request_kind,base_period,period,claimed_value,precision,tolerance,"
            "expected_to_hold,source_id",
            claims,
        ),
        # What: a correction of the growth run's change, its reason from the data.
        "corrections.csv": (
            "date,number_id,old_value,new_value,reason,source_id",
            [["2023-06-01", "growth.pct_change", "140", "150", names["TITLE"], "src-two"]],
        ),
    }
    for name, (header, body) in tables.items():
        with (folder / name).open("w", newline="", encoding="utf-8") as stream:
            stream.write(header + "\n")
            csv.writer(stream, lineterminator="\n").writerows(body)


def write_plan(folder: Path, names: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for notebook in NOTEBOOKS_DIR.glob("*.ipynb"):
        shutil.copy(notebook, folder)
    a, b = json.dumps(names["AGENCY_A"]), json.dumps(names["AGENCY_B"])
    comparison = (
        f'[{{agency = {a}, reported_by = {a}, base_period = "2020", compare_period = "2021"}}, '
        f'{{agency = {b}, reported_by = {b}, base_period = "2020", compare_period = "2021"}}]'
    )
    plan = folder / "runs.toml"
    plan.write_text(
        "\n".join(
            [
                '[[run]]\nname = "overview"\nnotebook = "01-data-overview.ipynb"',
                '[[run]]\nname = "growth"\nnotebook = "02-growth.ipynb"\n'
                f'parameters = {{ agency = {a}, reported_by = {a}, base_period = "2020", compare_period = "2021" }}',
                f'[[run]]\nname = "denial"\nnotebook = "03-denial-rates.ipynb"\n'
                f"parameters = {{ agency = {a}, reported_by = {a} }}",
                '[[run]]\nname = "claims"\nnotebook = "04-claims.ipynb"',
                '[[run]]\nname = "comparison"\nnotebook = "05-comparison.ipynb"\n'
                f"parameters = {{ comparisons = {comparison} }}",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return plan


class Structure(HTMLParser):
    """A page as its elements, attribute names and link targets, without its text.

    Inside highlighted code (the parameters cell of a full page shows the
    values as Python source) the syntax highlighter's ``<span class>`` tokens
    follow the text; any other element there still counts.
    """

    LINKS = ("href", "src", "action", "formaction", "data", "srcset", "poster")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shape: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
        self.text: list[str] = []
        self.csp: list[str] = []
        self.code_depth = 0

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self.code_depth:
            self.code_depth -= 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self.code_depth += 1
        if self.code_depth and tag == "span" and [name for name, _ in attrs] == ["class"]:
            return
        names = tuple(sorted(name for name, _ in attrs))
        links = tuple(sorted(f"{n}={v}" for n, v in attrs if n in self.LINKS and not str(v).startswith("data:")))
        self.shape.append((tag, names, links))
        if tag == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy":
            self.csp.append(str(dict(attrs).get("content")))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: Path) -> Structure:
    parsed = Structure()
    parsed.feed(page.read_text(encoding="utf-8"))
    return parsed


def build(tmp_path: Path, names: dict[str, str]) -> Path:
    write_dataset(tmp_path / "raw", names)
    plan = write_plan(tmp_path / "notebooks", names)
    reports = tmp_path / "reports"
    status = main(
        [
            "report",
            "--data-dir",
            str(tmp_path / "raw"),
            "--reports-dir",
            str(reports),
            "--processed-dir",
            str(tmp_path / "processed"),
            "--plan",
            str(plan),
            "--jobs",
            "1",
        ]
    )
    assert status == 0
    return reports


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build(tmp_path_factory.mktemp("plain"), PLAIN), build(tmp_path_factory.mktemp("hostile"), HOSTILE)


def pages(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.glob("*.html"))


def test_every_page_has_the_same_elements_attributes_and_links(reports: tuple[Path, Path]) -> None:
    plain, hostile = reports
    assert pages(plain) == pages(hostile) and len(pages(hostile)) == 11  # index + 5 runs x 2 renderings
    for name in pages(hostile):
        assert parse(hostile / name).shape == parse(plain / name).shape, f"{name}: markup came from the data"


def test_hostile_text_shows_as_text(reports: tuple[Path, Path]) -> None:
    _, hostile = reports
    shown = " ".join(" ".join(parse(hostile / name).text) for name in pages(hostile))
    for fragment in ("<img src=x onerror=alert(2)>", "<script>alert(3)</script>", "**County**", "[click me]"):
        assert fragment in shown, fragment
    own_script = (Path(build_index.__code__.co_filename).parent / "templates" / "runs-table.js").read_text()
    for name in pages(hostile):
        html = (hostile / name).read_text(encoding="utf-8")
        if name == "index.html":  # what: the landing page's one script is its own, the same with any data
            assert html.count(f"<script>{own_script}</script>") == 1
            html = html.replace(f"<script>{own_script}</script>", "")
        if name.startswith("claims."):  # what: the claims' reviews for machines, data that is never run
            start = html.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
            end = html.index("</script>", start)
            data = html[start:end]
            assert "<" not in data and ">" not in data and "&" not in data, "the data cannot end the block"
            assert json.loads(data)[0]["claimReviewed"] == HOSTILE["CLAIM"], "the claim, as it was written"
            html = html[: start - len('<script type="application/ld+json">')] + html[end + len("</script>") :]
        assert (
            "<script" not in html
            and "evil.example'>" not in html
            and "onerror=alert" not in html.replace("onerror=alert(2)&gt;", "")
        )


def test_every_page_carries_the_content_security_policy(reports: tuple[Path, Path]) -> None:
    _, hostile = reports
    script = (Path(build_index.__code__.co_filename).parent / "templates" / "runs-table.js").read_text()
    for name in pages(hostile):
        expected = content_security_policy([script]) if name == "index.html" else CONTENT_SECURITY_POLICY
        assert parse(hostile / name).csp == [expected], name


def test_a_correction_shows_on_its_runs_pages_and_on_the_index(reports: tuple[Path, Path]) -> None:
    _, hostile = reports
    for name in ("growth.html", "growth.full.html", "index.html"):
        shown = " ".join(parse(hostile / name).text)
        assert "growth.pct_change" in shown and "was 140, is 150" in shown, name
        assert HOSTILE["TITLE"] in shown, f"{name}: the reason shown as text"
    assert "growth.pct_change" not in " ".join(parse(hostile / "denial.html").text), "only on its own run's pages"
    page = (hostile / "growth.html").read_text(encoding="utf-8")
    assert '<time datetime="2023-06-01">1 June 2023</time>, the date of the newest source or correction' in page, (
        "the correction is the newest change to the page's data"
    )
    assert 'id="growth-values--percent-change--value"' in page, "the number's anchor says what it is"
