"""The Frictionless Data Package that describes the raw and processed tables, built from the package's own schema.

``datapackage.json`` at the project root is this descriptor (``python -m analysis.pipeline.datapackage``
writes it); ``make test`` checks that the committed file is what this module builds and that
``frictionless`` finds every table valid against it. Field names, vocabularies and limits come
from :mod:`analysis.data.schema`, :mod:`analysis.data.cells` and
:mod:`analysis.measures.processed`, so the description cannot drift from what validation accepts.
The pandera schema stays the rule book (it checks more: period labels against their dates, keys
as a reader sees them, cross-references); this descriptor lets any Frictionless tool read the
tables with their types.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from analysis import paths
from analysis.data.cells import MAX_COUNT, MAX_PRECISION
from analysis.data.checks import SLUG
from analysis.data.schema import (
    CLAIM_METRICS,
    CLAIMS_COLUMNS,
    CORRECTIONS_COLUMNS,
    COUNT_KEY,
    REQUEST_KINDS,
    REQUESTS_COLUMNS,
    SOURCE_ACCESS,
    SOURCE_KINDS,
    SOURCES_COLUMNS,
)
from analysis.files import to_json
from analysis.measures.processed import METRICS_COLUMNS

#: The descriptor's file, at the project root.
DESCRIPTOR = paths.PROJECT_ROOT / "datapackage.json"


def _text(name: str, description: str, *, required: bool = False, **constraints: Any) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "type": "string", "description": description}
    if required or constraints:
        field["constraints"] = {**({"required": True} if required else {}), **constraints}
    return field


def _count(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "integer",
        "description": description,
        "constraints": {"minimum": 0, "maximum": MAX_COUNT},
    }


def _number(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "type": "number", "description": description}


def _date(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "type": "date", "format": "%Y-%m-%d", "description": description, "constraints": {}}


_PERIOD = "the period's label: 2024, 2018-07/2019-06, 2017-01-28/2017-02-03 or FY2019, maybe with ' (partial)'"
_COUNTED_BY = "who counted: the agency itself, ICE's public statements, or ICE's detainer records"


def _requests_fields() -> list[dict[str, Any]]:
    fields = {
        "agency": _text("agency", "the local agency that received the requests", required=True),
        "jurisdiction": _text("jurisdiction", "where the agency is, e.g. Boston, MA", required=True),
        "reported_by": _text("reported_by", _COUNTED_BY, required=True),
        "request_kind": _text(
            "request_kind", "detainer, notification or any (all kinds together)", enum=list(REQUEST_KINDS)
        ),
        "period": _text("period", _PERIOD, required=True),
        "period_start": _date("period_start", "the period's first day"),
        "period_end": _date("period_end", "the period's last day (inclusive)"),
        "requests": _count("requests", "requests received in the period (blank: the source gives outcomes only)"),
        "honored": _count("honored", "requests the agency honored (blank: not reported)"),
        "declined": _count("declined", "requests the agency declined (blank: not reported)"),
        "source_ids": _text(
            "source_ids",
            "the sources of the count: ids of sources.csv joined by ';', with no space around them",
            required=True,
            pattern=f"{SLUG.pattern}(?:;{SLUG.pattern})*",
        ),
    }
    for name in ("period_start", "period_end"):
        fields[name]["constraints"] = {"required": True}
    return [fields[name] for name in REQUESTS_COLUMNS]


def _sources_fields() -> list[dict[str, Any]]:
    fields = {
        "source_id": _text("source_id", "the source's id", required=True, unique=True, pattern=SLUG.pattern),
        "publisher": _text("publisher", "who published it", required=True),
        "title": _text("title", "its title; in brackets, a description where it has none", required=True),
        "author": _text("author", "its author, if named"),
        "published": _text("published", "when: YYYY, YYYY-MM or YYYY-MM-DD", required=True),
        "url": _text("url", "where to read it (blank: not online)", pattern=r"https?://\S+"),
        "kind": _text("kind", "primary document, news report or official statement", enum=list(SOURCE_KINDS)),
        "access": _text("access", "how it was read: primary, news or repost", enum=list(SOURCE_ACCESS)),
    }
    return [fields[name] for name in SOURCES_COLUMNS]


def _claims_fields() -> list[dict[str, Any]]:
    fields = {
        "claim_id": _text("claim_id", "the claim's id", required=True, unique=True, pattern=SLUG.pattern),
        "claim": _text("claim", "the claim, in the package's words", required=True),
        "metric": _text("metric", "what the claim is about", enum=list(CLAIM_METRICS)),
        "agency": _text("agency", "the agency the claim is about", required=True),
        "reported_by": _text("reported_by", "whose counts the claim rests on", required=True),
        "request_kind": _text("request_kind", "the kind of request the claim counts", enum=list(REQUEST_KINDS)),
        "base_period": _text("base_period", "the earlier period of a change (blank for other metrics)"),
        "period": _text("period", "the period the claim is about (the later one for a change)", required=True),
        "claimed_value": _number("claimed_value", "the value claimed (percent for pct_change and denial_pct)"),
        "precision": {
            "name": "precision",
            "type": "integer",
            "description": "decimal places the claim is stated to",
            "constraints": {"required": True, "minimum": 0, "maximum": MAX_PRECISION},
        },
        "tolerance": _number("tolerance", "how far off the claim may be and hold, as a fraction (blank: none)"),
        "expected_to_hold": {
            "name": "expected_to_hold",
            "type": "boolean",
            "description": "whether the claim is presented as fact",
            "trueValues": ["true", "True", "TRUE"],
            "falseValues": ["false", "False", "FALSE"],
        },
        "source_id": _text("source_id", "where the claim was made: an id of sources.csv", required=True),
    }
    fields["claimed_value"]["constraints"] = {"required": True}
    fields["tolerance"]["constraints"] = {"minimum": 0}
    return [fields[name] for name in CLAIMS_COLUMNS]


def _corrections_fields() -> list[dict[str, Any]]:
    fields = {
        "date": _date("date", "when the correction was published"),
        "number_id": _text(
            "number_id", "the corrected number's stable id, as `detainers changes` lists it", required=True
        ),
        "old_value": _text("old_value", "the value published before", required=True),
        "new_value": _text("new_value", "the value after the correction", required=True),
        "reason": _text("reason", "why it was corrected, in a sentence", required=True),
        "source_id": _text("source_id", "where the correction was published: an id of sources.csv", required=True),
    }
    fields["date"]["constraints"] = {"required": True}
    return [fields[name] for name in CORRECTIONS_COLUMNS]


_METRICS_WORDS = {
    "period_kind": "calendar year, N-month period starting MONTH, or N-day period",
    "denial_rate": "share of requests declined (a fraction; blank where undefined)",
    "denial_ci_low": "lower bound of its exact 95% Clopper-Pearson interval",
    "denial_ci_high": "upper bound of that interval",
    "denial_note": "why the denial rate is undefined, if it is",
    "answered_rate": "for notification requests, the share answered (a fraction)",
    "answered_ci_low": "lower bound of its exact 95% Clopper-Pearson interval",
    "answered_ci_high": "upper bound of that interval",
    "previous_period": "the previous period of the same kind this reporter counted (blank: none)",
    "change_from_previous": "requests minus those of the previous period",
    "pct_change_from_previous": "that change in percent of the previous period (blank from a base of 0)",
}


def _metrics_fields() -> list[dict[str, Any]]:
    raw = {field["name"]: field for field in _requests_fields()}
    fields: list[dict[str, Any]] = []
    for name in METRICS_COLUMNS:
        if name in raw:
            fields.append(raw[name])
        elif name == "change_from_previous":
            fields.append({"name": name, "type": "integer", "description": _METRICS_WORDS[name]})
        elif name in ("period_kind", "denial_note", "previous_period"):
            fields.append(_text(name, _METRICS_WORDS[name]))
        else:
            fields.append(_number(name, _METRICS_WORDS[name]))
    return fields


def _table(name: str, path: Path, title: str, fields: list[dict[str, Any]], **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "path": path.relative_to(paths.PROJECT_ROOT).as_posix(),
        "title": title,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": {"fields": fields, "missingValues": [""], **schema},
    }


def descriptor() -> dict[str, Any]:
    """The Data Package descriptor of ``data/raw/`` and ``data/processed/`` (a JSON-ready dict)."""
    raw, processed = paths.RAW_DIR, paths.PROCESSED_DIR
    return {
        "profile": "tabular-data-package",
        "name": "detainer-requests",
        "title": "ICE detainer and notification requests to local police, as published, with their sources",
        "description": (
            "Counts of the requests U.S. Immigration and Customs Enforcement sent local agencies to hold a person "
            "or to be told of a release, as each counting party (the agency, ICE's public statements, ICE's "
            "records) published them, each with its sources; published claims about them; and the rates and "
            "changes computed from them (data/processed, rebuilt by `make report`)."
        ),
        "resources": [
            _table(
                "detainer_requests",
                raw / paths.REQUESTS_FILE,
                "One row per count: an agency, who counted, a kind of request and a period",
                _requests_fields(),
                primaryKey=list(COUNT_KEY),
            ),
            _table("sources", raw / paths.SOURCES_FILE, "The sources of every count and claim", _sources_fields()),
            _table(
                "claims",
                raw / paths.CLAIMS_FILE,
                "Published claims about the counts, checked by the package",
                _claims_fields(),
                foreignKeys=[{"fields": "source_id", "reference": {"resource": "sources", "fields": "source_id"}}],
            ),
            _table(
                "corrections",
                raw / paths.CORRECTIONS_FILE,
                "Corrections published to the report's numbers, each with its reason and source",
                _corrections_fields(),
                foreignKeys=[{"fields": "source_id", "reference": {"resource": "sources", "fields": "source_id"}}],
            ),
            _table(
                "detainer_metrics",
                processed / paths.METRICS_TABLE_FILE,
                "One row per count with its denial rate, exact interval and change from the previous period",
                _metrics_fields(),
            ),
        ],
    }


def main() -> int:
    """Write :data:`DESCRIPTOR`."""
    DESCRIPTOR.write_text(to_json(descriptor()), encoding="utf-8")
    print(f"wrote {DESCRIPTOR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
