"""The schema of the three raw tables, declared once with pandera.

Every check runs on the text cells read by :mod:`analysis.data.csvfile`, so a bad
value is reported as it was written in the file. Each check's ``error`` is the
rule shown to the user; checks on whole rows list the columns they concern.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd
import pandera.pandas as pa

from analysis.data.cells import MAX_PRECISION, PLAUSIBLE_DATES, plausible, to_count, to_number, to_partial_date
from analysis.data.checks import (
    Cells,
    Rows,
    cell_check,
    count_checks,
    date_checks,
    free_text,
    id_column,
    id_list,
    ids_known,
    not_blank,
    period_checks,
    period_label_check,
    plain_key,
    row_check,
)

REQUESTS_COLUMNS = (
    "agency",
    "jurisdiction",
    "reported_by",
    "request_kind",
    "period",
    "period_start",
    "period_end",
    "requests",
    "honored",
    "declined",
    "source_ids",
)
SOURCES_COLUMNS = ("source_id", "publisher", "title", "author", "published", "url", "kind", "access")
CLAIMS_COLUMNS = (
    "claim_id",
    "claim",
    "metric",
    "agency",
    "reported_by",
    "request_kind",
    "base_period",
    "period",
    "claimed_value",
    "precision",
    "tolerance",
    "expected_to_hold",
    "source_id",
)

#: The reporter of counts taken from ICE's record-level releases.
#: The ledger of corrections: when a published number was corrected, which (its stable id, see
#: ``detainers changes``), from what to what, why, and where the correction was published.
CORRECTIONS_COLUMNS = ("date", "number_id", "old_value", "new_value", "reason", "source_id")
ICE_RECORDS = "ICE detainer records"
#: The reporter of what ICE said in public (statements, press answers) in the raw tables.
ICE_STATEMENT = "U.S. Immigration and Customs Enforcement"

SOURCE_KINDS = ("primary document", "news report", "official statement")
#: How a count was read: in the counting agency's (or its government's) own publication, in an established news
#: outlet's own copy, or in a copy of a story on another site (second-hand until someone checks the original).
SOURCE_ACCESS = ("primary", "news", "repost")
#: Kinds of request: ICE detainer requests (form I-247 family); requests only to be told of a release; "ICE
#: requests" of every kind counted together. Counts of different kinds are never added or compared.
REQUEST_KINDS = ("detainer", "notification", "any")
#: Metrics a claim can be about: percent change, fold change, the direction of a change (1 a rise, -1 a fall, 0
#: none), percent declined, a count of requests, a count of declines.
CLAIM_METRICS = ("pct_change", "fold", "direction", "denial_pct", "requests", "declined")
GROWTH_METRICS = ("pct_change", "fold", "direction")
#: The columns that name one count: no two rows of detainer_requests.csv share them.
COUNT_KEY = ("agency", "reported_by", "request_kind", "period")


def requests_schema(source_ids: Collection[str] | None) -> pa.DataFrameSchema:
    """Schema of ``detainer_requests.csv``, given the source ids that exist (``None``: not checked)."""

    def outcomes_within_requests(rows: Rows) -> Cells:
        outcomes = to_count(rows["honored"]).fillna(0) + to_count(rows["declined"]).fillna(0)
        return ~(outcomes > to_count(rows["requests"])).fillna(False)

    def a_count_or_an_outcome(rows: Rows) -> Cells:
        return (rows[["requests", "honored", "declined"]] != "").any(axis=1)

    def one_row_per_count(rows: Rows) -> Cells:
        return ~rows.duplicated(list(COUNT_KEY), keep=False)

    kinds = ", ".join(REQUEST_KINDS)
    text = {name: pa.Column(None, [not_blank(), plain_key()]) for name in ("agency", "reported_by")}
    text["jurisdiction"] = pa.Column(None, [not_blank(), free_text()])
    return pa.DataFrameSchema(
        {
            **text,
            "request_kind": pa.Column(None, cell_check(f"must be one of {kinds}", lambda c: c.isin(REQUEST_KINDS))),
            "period": pa.Column(None, [not_blank(), period_label_check()]),
            "period_start": pa.Column(None, date_checks()),
            "period_end": pa.Column(None, date_checks()),
            "requests": pa.Column(None, count_checks(blank_ok=True)),
            "honored": pa.Column(None, count_checks(blank_ok=True)),
            "declined": pa.Column(None, count_checks(blank_ok=True)),
            "source_ids": pa.Column(None, [not_blank(), id_list(), *ids_known(source_ids, many=True)]),
        },
        checks=[
            *period_checks(),
            row_check(
                "honored + declined must not exceed requests",
                ("requests", "honored", "declined"),
                outcomes_within_requests,
            ),
            row_check(
                "requests may be blank only where the source gives an outcome (honored or declined) instead",
                ("requests", "honored", "declined"),
                a_count_or_an_outcome,
            ),
            row_check(
                "only one row may give the count of one agency, reporter, kind of request and period",
                COUNT_KEY,
                one_row_per_count,
            ),
        ],
        strict=True,
    )


def sources_schema() -> pa.DataFrameSchema:
    """Schema of ``sources.csv``."""

    kinds, access = ", ".join(SOURCE_KINDS), ", ".join(SOURCE_ACCESS)
    return pa.DataFrameSchema(
        {
            "source_id": id_column("source ids must be unique"),
            "publisher": pa.Column(None, [not_blank(), free_text()]),
            "title": pa.Column(None, [not_blank(), free_text()]),
            "author": pa.Column(None, free_text()),
            "published": pa.Column(
                None,
                [
                    cell_check(
                        "must be a date written YYYY, YYYY-MM or YYYY-MM-DD", lambda c: to_partial_date(c).notna()
                    ),
                    cell_check(f"must be a date {PLAUSIBLE_DATES}", lambda c: plausible(to_partial_date(c))),
                ],
            ),
            "url": pa.Column(
                None,
                cell_check(
                    "must be blank or start with http:// or https://",
                    lambda c: c.str.match(r"https?://\S+$"),
                    blank_ok=True,
                ),
            ),
            "kind": pa.Column(None, cell_check(f"must be one of {kinds}", lambda c: c.isin(SOURCE_KINDS))),
            "access": pa.Column(None, cell_check(f"must be one of {access}", lambda c: c.isin(SOURCE_ACCESS))),
        },
        strict=True,
    )


def corrections_schema(source_ids: Collection[str] | None) -> pa.DataFrameSchema:
    """Schema of ``corrections.csv``, given the source ids (``None``: sources.csv could not be read)."""

    def changes_the_value(rows: Rows) -> Cells:
        return rows["old_value"].ne(rows["new_value"])

    return pa.DataFrameSchema(
        {
            "date": pa.Column(None, date_checks()),
            "number_id": pa.Column(None, [not_blank(), plain_key()]),
            "old_value": pa.Column(None, [not_blank(), free_text()]),
            "new_value": pa.Column(None, [not_blank(), free_text()]),
            "reason": pa.Column(None, [not_blank(), free_text()]),
            "source_id": pa.Column(None, [not_blank(), *ids_known(source_ids, many=False)]),
        },
        checks=[row_check("a correction must change the value", ("old_value", "new_value"), changes_the_value)],
        strict=True,
    )


#: The values a claim can give for each metric, as problem messages state them.
CLAIMED_VALUE_RULE = (
    "claimed_value must be a value its metric can take: requests and declined a whole number of 0 or more, "
    "denial_pct from 0 to 100, pct_change -100 or more, fold 0 or more, direction 1 (a rise), 0 (no change) or -1 "
    "(a fall)"
)


def claimed_value_possible(rows: pd.DataFrame) -> pd.Series:
    """Whether each row's ``claimed_value`` is one its ``metric`` can take (:data:`CLAIMED_VALUE_RULE`); a value that
    is not a number, or a metric not known, passes here (its column's own check names it)."""
    value, metric = to_number(rows["claimed_value"]), rows["metric"]
    possible = {
        "requests": (value >= 0) & (value == value.round()),
        "declined": (value >= 0) & (value == value.round()),
        "denial_pct": value.between(0, 100),
        "pct_change": value >= -100,
        "fold": value >= 0,
        "direction": value.isin([-1, 0, 1]),
    }
    passes = pd.Series(True, index=rows.index)
    for name, holds in possible.items():
        passes &= ~metric.eq(name) | holds
    return passes | value.isna()


def claims_schema(
    source_ids: Collection[str] | None, counts: Collection[tuple[str, str, str, str]] | None
) -> pa.DataFrameSchema:
    """Schema of ``claims.csv``, given the source ids and the counts that exist (their :data:`COUNT_KEY`).

    ``None`` for either means that table could not be read, so references to it are not checked.
    """

    def base_matches_metric(rows: Rows) -> Cells:
        growth = rows["metric"].isin(GROWTH_METRICS)
        return growth.eq(rows["base_period"].ne(""))

    def counts_exist(rows: Rows) -> Cells:
        def known(column: str) -> Cells:
            keys = zip(rows["agency"], rows["reported_by"], rows["request_kind"], rows[column], strict=True)
            return pd.Series([key in known_counts or key[3] == "" for key in keys], index=rows.index)

        return known("period") & known("base_period")

    count_checks = []
    known_counts: Collection[tuple[str, str, str, str]] = counts if counts is not None else ()
    if counts is not None:
        count_checks.append(
            row_check(
                "the claim must refer to counts in detainer_requests.csv (same agency, reporter, kind and period)",
                ("agency", "reported_by", "request_kind", "base_period", "period"),
                counts_exist,
            )
        )
    metrics, kinds = ", ".join(CLAIM_METRICS), ", ".join(REQUEST_KINDS)
    return pa.DataFrameSchema(
        {
            "claim_id": id_column("claim ids must be unique"),
            "claim": pa.Column(None, [not_blank(), free_text()]),
            "metric": pa.Column(None, cell_check(f"must be one of {metrics}", lambda c: c.isin(CLAIM_METRICS))),
            "agency": pa.Column(None, [not_blank(), plain_key()]),
            "reported_by": pa.Column(None, [not_blank(), plain_key()]),
            "request_kind": pa.Column(None, cell_check(f"must be one of {kinds}", lambda c: c.isin(REQUEST_KINDS))),
            "base_period": pa.Column(None),
            "period": pa.Column(None, not_blank()),
            "claimed_value": pa.Column(None, cell_check("must be a number", lambda c: to_number(c).notna())),
            "precision": pa.Column(
                None,
                cell_check(
                    f"must be a whole number of decimal places from 0 to {MAX_PRECISION}",
                    lambda c: to_count(c) <= MAX_PRECISION,
                ),
            ),
            "tolerance": pa.Column(
                None,
                cell_check(
                    "must be blank or a fraction of 0 or more (0.1 is 10 percent)",
                    lambda c: to_number(c) >= 0,
                    blank_ok=True,
                ),
            ),
            "expected_to_hold": pa.Column(
                None, cell_check("must be true or false", lambda c: c.str.lower().isin(["true", "false"]))
            ),
            "source_id": pa.Column(None, [not_blank(), *ids_known(source_ids, many=False)]),
        },
        checks=[
            row_check(
                "base_period is required for a change (pct_change, fold, direction) and must be blank otherwise",
                ("metric", "base_period"),
                base_matches_metric,
            ),
            row_check(CLAIMED_VALUE_RULE, ("metric", "claimed_value"), claimed_value_possible),
            *count_checks,
        ],
        strict=True,
    )
