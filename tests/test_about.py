"""What a run's page says of its numbers: the sources cited, the data's last change, how to cite, the downloads."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import load_dataset
from analysis.paths import RAW_DIR, RUN_DESCRIPTION
from analysis.pipeline.about import about, citation, downloads
from analysis.studies import denial, growth
from analysis.studies.base import SOURCE_COLUMNS, cited_sources
from analysis.studies.text import date_words


def test_dates_are_written_in_words_at_the_precision_given() -> None:
    assert date_words("2026-01-27") == "27 January 2026"
    assert date_words("2023-05") == "May 2023"
    assert date_words("2022") == "2022"
    assert date_words("2023-13") == "2023-13" and date_words("soon") == "soon"


def test_a_study_cites_the_sources_of_its_counts_and_of_the_other_parties_it_shows() -> None:
    dataset = load_dataset(RAW_DIR)
    study = growth.study(dataset, "Boston Police Department", "Boston Police Department", "2024", "2025")
    cited = set(study.cited["source_id"])
    series_ids = {i for cell in study.series["source_ids"] for i in cell.split(";")}
    assert series_ids <= cited, "every count of the series"
    assert "herald-2025-01-07-ice" in cited, "ICE's count for 2024, which the page sets beside the department's"
    described = study.description()
    assert described["data_changed"] == {"date": "2026-01-27", "words": "27 January 2026"}
    dates = [source["published"] for source in described["sources"]]  # type: ignore[union-attr]
    assert dates == sorted(dates, reverse=True), "newest first"
    boston = dataset.requests[dataset.requests["agency"] == "Boston Police Department"]
    assert cited <= {i for cell in boston["source_ids"] for i in cell.split(";")}, "no other agency's source"
    nypd = denial.study(dataset, "New York City Police Department", "New York City Police Department")
    assert not set(nypd.cited["source_id"]) & cited


def test_only_cited_sources_are_picked_by_either_column() -> None:
    sources = pd.DataFrame([{c: f"{c}-{n}" for c in SOURCE_COLUMNS} for n in range(3)])
    sources["source_id"] = ["a", "b", "c"]
    picked = cited_sources(sources, pd.DataFrame({"source_ids": ["a; c"]}), pd.DataFrame({"source_id": ["b"]}))
    assert sorted(picked["source_id"]) == ["a", "b", "c"]
    assert list(cited_sources(sources, pd.DataFrame({"source_ids": ["c"]}))["source_id"]) == ["c"]


def test_the_citation_is_built_from_the_citation_file(tmp_path: Path) -> None:
    cff = tmp_path / "CITATION.cff"
    cff.write_text(
        "cff-version: 1.2.0\ntitle: A title\nversion: 2.0\nlicense: MIT\n"
        "authors:\n  - given-names: Ada\n    family-names: Lovelace\n  - name: The team\n"
    )
    assert citation(cff) == "Ada Lovelace, The team. A title. Version 2.0. Licence: MIT."
    assert citation(tmp_path / "missing.cff") == ""
    assert "detainer-analysis" in citation()


def test_only_web_addresses_become_links_and_downloads_are_relative_to_the_page(tmp_path: Path) -> None:
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "run.json").write_text(
        json.dumps(
            {
                "sources": [
                    {"title": "t", "publisher": "p", "author": "", "published": "2020", "url": "javascript:alert(1)"},
                    {"title": "u", "publisher": "p", "author": "", "published": "2021", "url": "https://example.org/x"},
                ],
                "data_changed": {"date": "2021", "words": "2021"},
            }
        )
    )
    (figures / "table-a b.csv").write_text("x\n")
    said = about(figures, "run #1")
    assert [source["url"] for source in said["sources"]] == ["", "https://example.org/x"]
    assert said["data_changed"] == {"date": "2021", "words": "2021"}
    assert downloads(figures, "run #1") == [
        {"label": "run.json (numbers, JSON)", "href": "figures/run%20%231/run.json"},
        {"label": "table-a b.csv (table, CSV)", "href": "figures/run%20%231/table-a%20b.csv"},
    ]


def claim_reviews(page: Path) -> list[dict[str, object]]:
    """The JSON-LD blocks of ``page``, each parsed."""
    from html.parser import HTMLParser

    class Blocks(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside, self.found = False, []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.inside = tag == "script" and ("type", "application/ld+json") in attrs

        def handle_endtag(self, tag: str) -> None:
            self.inside = False

        def handle_data(self, data: str) -> None:
            if self.inside:
                self.found.append(json.loads(data))

    blocks = Blocks()
    blocks.feed(page.read_text(encoding="utf-8"))
    return [item for block in blocks.found for item in block]


def test_the_claims_page_carries_each_verdict_as_a_schema_org_claim_review() -> None:
    """Read as a JSON-LD processor reads it (pyld, with schema.org's vocabulary given locally: nothing is
    fetched), every claim of the data is a ClaimReview of the page, its anchor on the page, its rating on a
    stated scale."""
    from pyld import jsonld

    from analysis.measures.verdicts import CONTRADICTED, SUPPORTED
    from analysis.paths import REPORTS_DIR
    from analysis.studies.claims import DISPUTED, RATINGS

    def local_schema_org(url: str, options: object = None) -> dict[str, object]:
        assert url.rstrip("/") in ("https://schema.org", "http://schema.org"), f"would fetch {url}"
        return {"contextUrl": None, "documentUrl": url, "document": {"@context": {"@vocab": "https://schema.org/"}}}

    page = REPORTS_DIR / "04-claims.html"
    reviews = claim_reviews(page)
    expanded = jsonld.expand(reviews, {"documentLoader": local_schema_org, "base": page.as_uri()})
    schema = "https://schema.org/"
    claims = load_dataset(RAW_DIR).claims
    verdicts = json.loads((REPORTS_DIR / "figures" / "04-claims" / RUN_DESCRIPTION).read_text())["numbers"]
    assert len(expanded) == len(claims) and all(r["@type"] == [f"{schema}ClaimReview"] for r in expanded)
    html = page.read_text(encoding="utf-8")
    for review, (_, claim) in zip(expanded, claims.iterrows(), strict=True):
        assert review[f"{schema}claimReviewed"][0]["@value"] == claim["claim"]
        assert review["@id"] == f"{page.as_uri()}#claims--{claim['claim_id']}--claim"
        assert f'id="claims--{claim["claim_id"]}--claim"' in html, "the review's anchor is on the page"
        item = review[f"{schema}itemReviewed"][0]
        assert item["@type"] == [f"{schema}Claim"] and item[f"{schema}author"]
        rating = review[f"{schema}reviewRating"][0]
        verdict = rating[f"{schema}alternateName"][0]["@value"]
        assert rating[f"{schema}bestRating"][0]["@value"] == 5 and rating[f"{schema}worstRating"][0]["@value"] == 1
        if verdict in RATINGS:
            assert rating[f"{schema}ratingValue"][0]["@value"] == RATINGS[verdict]
        else:
            assert f"{schema}ratingValue" not in rating and rating[f"{schema}ratingExplanation"]
        # What: a claim that another party's count turns from supported to contradicted (or back) is disputed,
        # not rated as its own source's count alone would rate it, and its explanation gives both counts.
        published = verdicts[claim["claim_id"]]
        turned = {published["verdict"], *(a["verdict"] for a in published["alternatives"])} >= {SUPPORTED, CONTRADICTED}
        assert (verdict == DISPUTED) == turned, claim["claim_id"]
        if turned:
            explained = rating[f"{schema}ratingExplanation"][0]["@value"]
            assert all(f"{a['count']:,}" in explained for a in published["alternatives"]), explained
    assert "rated 5" in html.split("For machines")[-1], "the scale is explained on the page"


def test_periods_and_spans_are_written_in_words() -> None:
    from datetime import date

    from analysis.numbers import during, listed, period_words, rate_text, span_words
    from analysis.studies.text import capitalized

    assert period_words("2018-07/2019-06") == "July 2018 to June 2019"
    assert during("2017-01-28/2017-02-03") == "from 28 January 2017 to 3 February 2017"
    assert during("2024") == "in 2024" and during("FY2019") == "in fiscal year 2019"
    assert capitalized(listed(["fiscal year 2016", "fiscal year 2018"])) == "Fiscal year 2016 and fiscal year 2018"
    assert capitalized("ICE requests of every kind") == "ICE requests of every kind"
    assert [listed(items) for items in ([], ["2021"], ["2021", "2023"], ["2016", "2021", "2023"])] == [
        "",
        "2021",
        "2021 and 2023",
        "2016, 2021 and 2023",
    ]
    assert period_words("2018-04/2018-04") == "April 2018"
    assert period_words("2017-01-28/2017-02-03") == "28 January 2017 to 3 February 2017"
    assert period_words("FY2019 (partial)") == "fiscal year 2019 (partial)"
    assert period_words("2024") == "2024" and period_words("2018-13/2019-01") == "2018-13/2019-01"
    assert span_words(date(2016, 1, 1), date(2025, 12, 31)) == "2016 to 2025"
    assert span_words(date(2007, 10, 1), date(2025, 12, 31)) == "October 2007 to December 2025"
    assert span_words(date(2017, 1, 28), date(2017, 2, 3)) == "28 January 2017 to 3 February 2017"
    assert (rate_text(1.0), rate_text(4520 / 4522), rate_text(0.5), rate_text(0.00001)) == (
        "100%",
        "99.96%",
        "50.0%",
        "0.001%",
    )


def test_the_corrections_ledger_is_checked_like_the_other_tables(data_dir: Path) -> None:
    from analysis.data.load import load_corrections
    from analysis.errors import DataValidationError

    assert load_dataset(data_dir).corrections.empty, "a data folder without a ledger has no corrections"
    ledger = data_dir / "corrections.csv"
    ledger.write_text(
        "date,number_id,old_value,new_value,reason,source_id\n"
        "2025-02-30,growth.pct_change,150,150,,nope\n"
        "2025-03-01,growth.pct_change,150,160,A count was mistyped,fixture-news-2023\n"
    )
    try:
        load_dataset(data_dir)
    except DataValidationError as error:
        said = str(error)
    else:
        raise AssertionError("a bad ledger was accepted")
    for rule in (
        "corrections.csv:2: date: found 2025-02-30: must be a real date written YYYY-MM-DD",
        "corrections.csv:2: old_value, new_value: found old_value=150; new_value=150: a correction must change",
        "corrections.csv:2: reason: found (blank): must not be blank",
        "corrections.csv:2: source_id: found nope: must name a source listed in sources.csv",
    ):
        assert rule in said, rule
    ledger.write_text(ledger.read_text().splitlines()[0] + "\n" + ledger.read_text().splitlines()[2] + "\n")
    assert len(load_dataset(data_dir).corrections) == 1
    (fix,) = load_corrections(data_dir).to_dict("records")
    assert fix["publisher"] == "The Example Gazette" and fix["new_value"] == "160"


@pytest.mark.parametrize(
    ("content", "nothing"),
    [
        (None, True),
        (b"date,number_id,old_value,new_value,reason,source_id\n", True),
        (b"\xef\xbb\xbfdate,number_id,old_value,new_value,reason,source_id\r\n\r\n  \n", True),
        (
            b"date,number_id,old_value,new_value,reason,source_id\n2025-03-01,growth.pct_change,150,160,A,fixture-news-2023\n",
            False,
        ),
        (b'date,number_id,old_value,new_value,reason,"source_id\n2025-03-01"\n', False),
        (b"date,number_id,\xff\n", False),
        (b"PK\x03\x04 a workbook", False),
        (b"", False),
    ],
    ids=[
        "missing",
        "a header",
        "a header, a BOM and blank lines",
        "a row",
        "a quoted line break",
        "not UTF-8",
        "a zip archive",
        "empty",
    ],
)
def test_a_ledger_that_lists_nothing_is_known_without_reading_it_in_full(
    tmp_path: Path, content: bytes | None, nothing: bool
) -> None:
    """A run's worker reads the ledger in full only when it may list something: what it skips is exactly what
    ``load_corrections`` reads as no rows without a problem."""
    from analysis.data.load import load_corrections
    from analysis.data.source import lists_nothing
    from analysis.errors import DataValidationError

    shutil.copy(Path(__file__).parent / "fixtures" / "valid" / "sources.csv", tmp_path)
    ledger = tmp_path / "corrections.csv"
    if content is not None:
        ledger.write_bytes(content)
    assert lists_nothing(ledger) == nothing
    if nothing:
        assert load_corrections(tmp_path).empty
    else:
        with contextlib.suppress(DataValidationError):
            assert not load_corrections(tmp_path).empty
    (tmp_path / "folder.csv").mkdir()
    assert not lists_nothing(tmp_path / "folder.csv")


def test_the_citation_reads_values_as_written_and_survives_no_authors(tmp_path: Path) -> None:
    cff = tmp_path / "CITATION.cff"
    cff.write_text("cff-version: 1.2.0\ntitle: T\nversion: 1.10\nauthors:\n")
    assert citation(cff) == "T. Version 1.10."


def test_folds_and_changes_are_never_written_as_no_change_when_they_are_not() -> None:
    from analysis.numbers import fold_text, signed_pct

    assert (fold_text(0.996), fold_text(0.04), fold_text(4e-05), fold_text(1.0)) == (
        "0.996",
        "0.04",
        "under 0.001",
        "1.0",
    )
    assert (signed_pct(-0.4), signed_pct(280), signed_pct(-71.2)) == ("0%", "+280%", "−71%")


def test_every_table_cell_has_an_id_named_by_what_it_is_unique_on_its_page() -> None:
    """No cell keeps pandas' positional id (T_NAME_rowR_colC); each id is unique on its page, and a row's ids do
    not depend on where the row sits."""
    import re

    from analysis.paths import REPORTS_DIR
    from analysis.studies.tables import Column, reader_table

    for page in sorted(REPORTS_DIR.glob("*.html")):
        if page.name == "index.html":
            continue
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'id="T_[^"]*_row\d+_col\d+"', text), f"{page.name}: a positional cell id"
        ids = re.findall(r'<td id="([^"]+)"', text)
        assert len(ids) == len(set(ids)), f"{page.name}: a cell id twice"
    growth = (REPORTS_DIR / "02-growth-boston.html").read_text(encoding="utf-8")
    assert 'id="growth-values--percent-change--value"' in growth
    frame = pd.DataFrame({"period": ["2016", "2017"], "requests": [15, 68]})
    columns = {"period": Column("period"), "requests": Column("requests", lambda v: f"{v:,}", numeric=True)}
    forward = reader_table("t", frame, columns).cell_ids()
    backward = reader_table("t", frame.iloc[::-1], columns).cell_ids()
    assert forward == backward[::-1] and forward[0] == ["t--2016--period", "t--2016--requests"]


def test_reader_text_writes_every_period_in_words() -> None:
    """Outside tables and code, no published page writes a period as the data label it (``2017-01-28/2017-02-03``,
    ``2018-07/2019-06``): sentences and chart descriptions say it in words."""
    import re
    from html.parser import HTMLParser

    from analysis.paths import REPORTS_DIR

    class Prose(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside, self.text = 0, []

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.inside += tag in ("table", "script", "style", "code", "pre")
            self.text.extend(value or "" for name, value in attrs if name == "alt")

        def handle_endtag(self, tag: str) -> None:
            self.inside -= tag in ("table", "script", "style", "code", "pre")

        def handle_data(self, data: str) -> None:
            if not self.inside:
                self.text.append(data)

    label = re.compile(r"\d{4}-\d{2}(?:-\d{2})?/\d{4}-\d{2}")
    pages = sorted(REPORTS_DIR.glob("*.html"))
    assert len(pages) > 30
    for page in pages:
        prose = Prose()
        prose.feed(page.read_text(encoding="utf-8"))
        found = label.findall(" ".join(prose.text))
        assert not found, f"{page.name}: {found}"


def test_a_table_with_no_rows_shows_nothing_on_a_page_and_says_so_as_text() -> None:
    """No other party counts Los Angeles County's compared periods: its page says so in a sentence and shows no
    table of headers alone; a notebook's text (what nbval compares) still says "(no rows)"."""
    from analysis.paths import REPORTS_DIR
    from analysis.studies.tables import Column, reader_table

    empty = reader_table("t", pd.DataFrame({"period": []}), {"period": Column("period")})
    assert empty._repr_html_() == "" and repr(empty) == "(no rows)"
    page = (REPORTS_DIR / "02-growth-los-angeles-county.html").read_text(encoding="utf-8")
    assert "No other party gives a count for either compared period." in page
    assert "their count (" not in page, "no headers of an empty table"
    assert "their count (" in (REPORTS_DIR / "02-growth-boston.html").read_text(encoding="utf-8")
