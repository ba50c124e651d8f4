"""Charts with a time axis keep the years that have no count in their place, and the tables say when a change
spans such years."""

from __future__ import annotations

from matplotlib.text import Text

from analysis import load_dataset
from analysis.paths import RAW_DIR
from analysis.studies import comparison, denial
from analysis.studies.comparison import previous_text

BOSTON = "Boston Police Department"
YEARS = [str(year) for year in range(2016, 2026)]


def ticks_and_notes(axes) -> tuple[list[str], list[str]]:
    return [t.get_text() for t in axes.get_xticklabels()], [t.get_text() for t in axes.texts]


def test_the_denial_chart_keeps_the_years_without_a_count() -> None:
    study = denial.study(load_dataset(RAW_DIR), BOSTON, BOSTON)
    (axes,) = study.charts()["03-denial-rates"].figure.axes
    ticks, notes = ticks_and_notes(axes)
    assert ticks == YEARS, "2018 to 2020 stay on the axis, between 2017 and 2021"
    assert notes.count("no count") == 3 and notes.count("outcome\nnot reported") == 2


def test_a_year_that_is_not_a_calendar_year_keeps_its_distance_and_is_named_in_words() -> None:
    """New York's July-to-June year follows its 2017 after six months with no count: the charts keep a place for
    them, named by their span, and write every period in words; a kind of request keeps its capitals in a title."""
    from analysis.studies import growth

    dataset = load_dataset(RAW_DIR)
    nypd = "New York City Police Department"
    shown = ["2016", "2017", "January 2018 to\nJune 2018", "July 2018 to\nJune 2019"]
    (axes,) = growth.study(dataset, nypd, nypd, "2016", "2017").charts()["02-growth-requests"].figure.axes
    ticks, notes = ticks_and_notes(axes)
    assert ticks == shown and notes.count("no count") == 1
    axes = denial.study(dataset, nypd, nypd).charts()["03-denial-rates"].figure.axes[0]
    assert ticks_and_notes(axes) == (shown, ["no count"])
    sf = "San Francisco Sheriff's Department"
    (axes,) = growth.study(dataset, sf, sf, "2016", "2017").charts()["02-growth-requests"].figure.axes
    assert axes.get_title().startswith("ICE requests of every kind to the"), axes.get_title()
    said = growth.study(dataset, nypd, nypd, "2016", "2017").chart_texts()["02-growth-requests"]
    assert "2017: 1,526; January 2018 to June 2018: no count; July 2018 to June 2019: 2,916." in said, said
    denver = "Denver Sheriff Department"
    headline = growth.study(dataset, denver, denver, "2018-01/2018-03", "2018-04/2018-06").headline
    assert "84 notification requests (April 2018 to June 2018), up from 42 (January 2018 to March 2018)" in headline


def test_the_comparison_chart_and_table_keep_the_years_without_a_count() -> None:
    pair = {"agency": BOSTON, "reported_by": BOSTON, "base_period": "2024", "compare_period": "2025"}
    study = comparison.study(load_dataset(RAW_DIR), [pair])
    (axes,) = study.charts()["05-comparison-requests"].figure.axes
    ticks, notes = ticks_and_notes(axes)
    assert ticks == YEARS and notes.count("no count") == 3
    rows = {row["period"]: row["previous period with a count"] for row in study.tables()["year_over_year"].rows}
    assert rows["2021"] == "2017 (2018 to 2020: no count)" and rows["2022"] == "2021" and rows["2016"] == ""


def test_a_comparison_of_kinds_and_periods_that_differ_says_so_in_its_title_and_text() -> None:
    """San Francisco's count of requests of every kind beside Boston's detainer requests: the chart's title does
    not call both detainer requests, and the page says the kinds and periods differ; one kind over one span does
    not get those warnings."""
    dataset = load_dataset(RAW_DIR)
    boston = {"agency": BOSTON, "reported_by": BOSTON, "base_period": "2024", "compare_period": "2025"}
    sf = "San Francisco Sheriff's Department"
    nypd = "New York City Police Department"
    san_francisco = {"agency": sf, "reported_by": sf, "base_period": "2016", "compare_period": "2017"}
    new_york = {"agency": nypd, "reported_by": nypd, "base_period": "2016", "compare_period": "2017"}
    mixed = comparison.study(dataset, [boston, san_francisco])
    assert mixed.kinds == ["detainer", "any"]
    title = mixed.charts()["05-comparison-requests"].figure.get_suptitle()
    assert not title.lower().startswith("detainer requests") and "kind" in title
    said = mixed.limits()
    assert f"detainer requests ({BOSTON}); ICE requests of every kind ({sf})" in said
    assert "different periods (2024 and 2025; 2016 and 2017)" in said
    alike = comparison.study(dataset, [new_york, boston | {"base_period": "2016", "compare_period": "2017"}])
    assert alike.charts()["05-comparison-requests"].figure.get_suptitle().startswith("Detainer requests per period")
    assert alike.limits() == "Every change is between the same periods, 2016 and 2017."
    denver = "Denver Sheriff Department"
    quarters = {
        "agency": denver,
        "reported_by": denver,
        "base_period": "2018-01/2018-03",
        "compare_period": "2018-04/2018-06",
    }
    quarterly = comparison.study(dataset, [quarters])
    assert "42 notification requests (January 2018 to March 2018) to 84 (April 2018 to June 2018)" in quarterly.headline
    assert list(quarterly.periods["period"]) == ["2018-01/2018-03", "2018-04/2018-06"], "both compared quarters shown"
    (axes,) = quarterly.charts()["05-comparison-requests"].figure.axes
    assert (
        len(axes.patches) >= 2
        and "April 2018 to June 2018 highlighted" in quarterly.chart_texts()["05-comparison-requests"]
    )


def test_time_between_periods_with_no_count_gets_its_place_whatever_order_the_rows_come_in() -> None:
    import pandas as pd

    from analysis.studies.charts import period_axis

    halves = pd.DataFrame(
        {
            "period": ["2019-01/2019-06", "2018-01/2018-06", "2021-01/2021-06"],
            "period_start": pd.to_datetime(["2019-01-01", "2018-01-01", "2021-01-01"]),
            "period_end": pd.to_datetime(["2019-06-30", "2018-06-30", "2021-06-30"]),
        }
    )
    assert period_axis(halves) == [
        "2018-01/2018-06",
        "July 2018 to December 2018",
        "2019-01/2019-06",
        "July 2019 to December 2020",
        "2021-01/2021-06",
    ]


def test_a_gap_of_years_is_named() -> None:
    assert previous_text("2021", "2017") == "2017 (2018 to 2020: no count)"
    assert previous_text("2019", "2017") == "2017 (2018: no count)"
    assert previous_text("2018", "2017") == "2017"
    assert previous_text("FY2019", "FY2017") == "FY2017" and previous_text("2018", None) == ""


def test_every_chart_names_its_sources_under_it_as_text(data_dir) -> None:
    """The line under a chart names the publishers of its counts, drawn as written: a publisher named like a
    formula stays text."""
    from analysis.studies import growth

    study = denial.study(load_dataset(RAW_DIR), BOSTON, BOSTON)
    figure = study.charts()["03-denial-rates"].figure
    assert figure.get_supxlabel().startswith("Sources: ") and "Chart: detainer-analysis." in figure.get_supxlabel()
    sources = data_dir / "sources.csv"
    sources.write_text(sources.read_text().replace("The Example Gazette", "$\\\\frac{a}{b}$ Gazette"))
    dataset = load_dataset(data_dir)
    agency = str(dataset.requests["agency"].iloc[0])
    periods = sorted(dataset.requests.loc[dataset.requests["agency"] == agency, "period"])
    study = growth.study(dataset, agency, agency, periods[0], periods[1])
    (chart,) = study.charts().values()
    label = chart.figure.get_supxlabel()
    assert "$\\\\frac{a}{b}$ Gazette" in label, label
    (text,) = [t for t in chart.figure.findobj(Text) if t.get_text() == label]
    assert text.get_parse_math() is False
    chart.render("png")  # what: drawn without a mathtext error


def test_a_page_with_no_rate_says_whose_counts_it_gives_and_what_they_leave_out() -> None:
    """Hennepin County: ICE's weekly report gave 2 declined and no count of requests; the sheriff gave 15 requests
    a week later without saying how many were honored or declined. Each count is given as its party's."""
    dataset = load_dataset(RAW_DIR)
    hennepin, ice = "Hennepin County Sheriff's Office", "U.S. Immigration and Customs Enforcement"
    by_ice = denial.study(dataset, hennepin, ice).headline
    assert by_ice.endswith(
        f"By the count of {ice}, from 28 January 2017 to 3 February 2017, 2 declined and no count of detainer requests."
    ), by_ice
    own = denial.study(dataset, hennepin, hennepin).headline
    assert "15 detainer requests and no count of how many were honored or declined." in own, own


def test_the_law_behind_an_agencys_own_rate_is_named_but_not_given_as_the_reason_for_another_partys_counts() -> None:
    from analysis.data.schema import ICE_RECORDS

    dataset = load_dataset(RAW_DIR)
    own = denial.study(dataset, BOSTON, BOSTON).context()
    assert own.startswith("The 100% rate is set by law") and "Lunn v. Commonwealth" in own
    assert "In 2025 the U.S. Department of Justice took the City of Boston to court over the Trust Act." in own
    records = denial.study(dataset, BOSTON, ICE_RECORDS).context()
    assert records.startswith(f"For the {BOSTON}'s own counts, the dataset records the law that sets its rate (")
    assert "does not say how that law bears on them" in records and "100%" not in records
    nypd = "New York City Police Department"
    assert (
        denial.study(dataset, nypd, nypd).context()
        == f"The dataset records no law or policy that sets the rate of the {nypd}."
    )


def test_the_coverage_chart_keeps_labels_of_marks_close_in_time_apart() -> None:
    """Marks of one row close in time put their labels on alternate sides; in the drawn chart no two labels of the
    committed data overlap, and no row is left empty above or below the first and last series."""
    import pandas as pd
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from analysis.studies import overview
    from analysis.studies.charts import label_sides

    day = pd.Timestamp("2018-01-01")
    rows = pd.DataFrame(
        {"middle": [day, day + pd.Timedelta(days=20), day + pd.Timedelta(days=40)], "label": ["1,234"] * 3}
    )
    assert label_sides(rows, points_per_day=0.5, fontsize=8) == [True, False, True], (
        "labels 26 points wide, 10 apart: alternate"
    )
    assert label_sides(rows, points_per_day=5, fontsize=8) == [True, True, True], "100 apart: all above"

    figure = overview.study(load_dataset(RAW_DIR)).charts()["01-data-overview-coverage"].figure
    (axes,) = figure.axes
    renderer = FigureCanvasAgg(figure).get_renderer()
    boxes = [text.get_window_extent(renderer) for text in axes.texts]
    assert len(boxes) == len(load_dataset(RAW_DIR).requests)
    overlapping = [(a, b) for n, a in enumerate(boxes) for b in boxes[n + 1 :] if a.overlaps(b)]
    assert overlapping == []
    rows_shown = len(axes.get_yticks())
    bottom, top = axes.get_ylim()
    assert bottom - (rows_shown - 1) < 1 and -top < 1, "less than a row's height beyond the first and last rows"


def test_a_legend_names_only_what_its_chart_shows() -> None:
    """Los Angeles County's two counts are both compared: its legend has no "other period"; Boston's has both."""
    from analysis.studies import growth

    dataset = load_dataset(RAW_DIR)
    county = "Los Angeles County Sheriff's Department"
    shown = {}
    for agency, base, compare, kind in ((county, "2016", "2017-01/2017-10", "any"), (BOSTON, "2024", "2025", None)):
        figure = growth.study(dataset, agency, agency, base, compare, kind).charts()["02-growth-requests"].figure
        legend = figure.axes[0].get_legend()
        shown[agency] = [text.get_text() for text in legend.get_texts()]
        assert legend.get_title().get_text() == ""
    assert shown == {county: ["compared period"], BOSTON: ["compared period", "other period"]}


def test_a_chart_is_laid_out_once_for_both_renderings_and_keeps_its_layout_engine() -> None:
    """The SVG is drawn with the layout the PNG gave (its axes where the PNG has them), and the figure keeps its
    constrained layout for whatever is drawn next."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    chart = denial.study(load_dataset(RAW_DIR), BOSTON, BOSTON).charts()["03-denial-rates"]
    png = chart.render("png")
    position = chart.figure.axes[0].get_position().bounds
    assert chart.render("svg").startswith(b"<?xml") and png.startswith(b"\x89PNG")
    assert chart.figure.axes[0].get_position().bounds == position
    assert isinstance(chart.figure.get_layout_engine(), ConstrainedLayoutEngine)
