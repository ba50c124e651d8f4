"""The column layouts in which ICE's detainer records are published, and finding which one a header is.

Four layouts are known: ICE's raw FOIA workbooks of 2025 (release
2025-ICLI-00019) and of March 2026 (2026-ICLI-00005), the Deportation Data
Project's processed file (snake_case names, 2026 names renamed to the 2025
ones, plus ``duplicate_likely``), and ICE's FY2008-FY2015 release obtained by
NPR (no facility code, no identifier). Each maps the columns the ingest uses to
their names in that layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The columns the ingest uses, by the names this package gives them.
FIELDS = (
    "prepare_date",
    "facility",
    "facility_code",
    "city",
    "state",
    "aor",
    "lift_reason",
    "detainer_type",
    "person_id",
)
#: Without these a record cannot be counted for a facility and a period.
REQUIRED = ("prepare_date", "facility", "state")
#: What each field is, for messages and the source row ("no identifier: ...").
MEANING = {
    "facility_code": "facility code",
    "city": "facility city",
    "aor": "area of responsibility",
    "lift_reason": "lift reason (so no declines)",
    "detainer_type": "detainer type",
    "person_id": "person identifier (so likely duplicates cannot be found)",
}


@dataclass(frozen=True)
class Layout:
    """One way the records are published: its name, what it is, and each field's column name."""

    name: str
    description: str
    columns: dict[str, str]
    duplicate_flag: str | None = None

    def score(self, header: Sequence[str]) -> tuple[bool, int]:
        """Whether ``header`` has this layout's required columns, and how many of its columns it has."""
        present = set(header)
        required = all(self.columns[field] in present for field in REQUIRED)
        return required, sum(name in present for name in self.columns.values())


_ICE_COMMON = {
    "prepare_date": "Detainer Prepare Date",
    "city": "Facility City",
    "state": "Facility State",
    "aor": "Facility AOR",
    "lift_reason": "Detainer Lift Reason",
    "detainer_type": "Detainer Type",
}
LAYOUTS = (
    Layout(
        "ddp",
        "the Deportation Data Project's processed file",
        {
            "prepare_date": "detainer_prepare_date",
            "facility": "detention_facility",
            "facility_code": "detention_facility_code",
            "city": "facility_city",
            "state": "facility_state",
            "aor": "facility_aor",
            "lift_reason": "detainer_lift_reason",
            "detainer_type": "detainer_type",
            "person_id": "unique_identifier",
        },
        duplicate_flag="duplicate_likely",
    ),
    Layout(
        "ice-2026",
        "ICE's FOIA release of March 2026 (2026-ICLI-00005)",
        {
            **_ICE_COMMON,
            "facility": "Detainer Facility",
            "facility_code": "Detainer Facility Code",
            "person_id": "Anonymized Identifier",
        },
    ),
    Layout(
        "ice-2025",
        "ICE's FOIA release of 2025 (2025-ICLI-00019)",
        {
            **_ICE_COMMON,
            "facility": "Detention Facility",
            "facility_code": "Detention Facility Code",
            "person_id": "Unique Identifier",
        },
    ),
    Layout(
        "npr-cleaned",
        "NPR's cleaned copy of the FY2008-FY2015 release (its 2016 reporting)",
        {
            "prepare_date": "date",
            "facility": "det_facility",
            "city": "city",
            "state": "state",
            "lift_reason": "lift_reason",
            "detainer_type": "detainer_type",
        },
    ),
    Layout(
        "npr-2008-2015",
        "ICE's FY2008-FY2015 release (obtained by NPR)",
        {
            "prepare_date": "Prepare Date",
            "facility": "Detainer Detention Facility",
            "city": "City",
            "state": "State",
            "lift_reason": "Detainer Lift Reason",
            "detainer_type": "Detainer Type",
        },
    ),
)


def find_layout(header: Sequence[str]) -> Layout | None:
    """The layout whose required columns ``header`` has, preferring the one it matches most; ``None`` if none."""
    fitting = [(layout.score(header)[1], -number, layout) for number, layout in enumerate(LAYOUTS)]
    complete = [entry for entry in fitting if entry[2].score(header)[0]]
    return max(complete, key=lambda entry: entry[:2])[2] if complete else None


def closest_layout(header: Sequence[str]) -> Layout:
    """The layout ``header`` shares most columns with (to say which required ones it lacks)."""
    return max(LAYOUTS, key=lambda layout: layout.score(header)[1])


#: A row naming this many columns of one layout is its header, even if a required one is missing (then said so).
HEADER_NAMES = 3


def looks_like_header(row: Sequence[object]) -> bool:
    """Whether a row of cells is a header: it names at least :data:`HEADER_NAMES` columns of one layout."""
    cells = [str(cell).strip() for cell in row if cell is not None]
    return closest_layout(cells).score(cells)[1] >= HEADER_NAMES
