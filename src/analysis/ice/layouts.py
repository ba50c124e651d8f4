"""The column layouts in which ICE's detainer records are published or passed on, and finding which one a header is.

Known layouts: ICE's raw FOIA workbooks of 2025 (release 2025-ICLI-00019) and
of March 2026 (2026-ICLI-00005); the Deportation Data Project's processed file
(snake_case names, 2026 names renamed to the 2025 ones, plus
``duplicate_likely``) and its merged file of several releases (``prepare_date``,
the release in ``source_file``, ``duplicate_likely`` and ``drop_row``); a
DuckDB build of the releases (``unique_id``, the release in ``data_source``);
ICE's FY2008-FY2015 release obtained by NPR (no facility code, no identifier)
and NPR's cleaned copy of it. Each maps the columns the ingest uses to their
names in that layout, and says what its own duplicate flag means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

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
    "release",
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


#: How a duplicate flag's text (or value label) says true, and false, in capitals.
TRUE_TEXTS = frozenset({"TRUE", "T", "YES", "1", "1.0"})
FALSE_TEXTS = frozenset({"FALSE", "F", "NO", "0", "0.0"})
#: How a file's own duplicate flag is read: the flagged records after the first of each person and prepare day are
#: left out (the Deportation Data Project's processed file), or each flagged record is left out as it stands (the
#: merged file's ``drop_row``).
SAME_DAY, LEAVE_OUT = "same-day", "leave-out"


@dataclass(frozen=True)
class Layout:
    """One way the records are published: its name, what it is, each field's column name, and its duplicate flag.

    ``duplicate_flag`` names the file's own column of likely duplicates, read
    as ``duplicate_rule`` says (:data:`SAME_DAY` or :data:`LEAVE_OUT`);
    ``duplicate_meaning`` is the file's definition of it, in words, for the
    source row.
    """

    name: str
    description: str
    columns: dict[str, str]
    duplicate_flag: str | None = None
    duplicate_rule: str = SAME_DAY
    duplicate_meaning: str = ""
    #: Other names a field goes by in some files of the layout (one FY file of NPR's release says "Detention
    #: Facility" where the others say "Detainer Detention Facility").
    alternates: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def for_header(self, header: Sequence[str]) -> Layout:
        """This layout with each field named as ``header`` names it, where it uses an alternate name."""
        if not self.alternates:
            return self
        present = set(header)
        columns = {
            name: column
            if column in present
            else next((other for other in self.alternates.get(name, ()) if other in present), column)
            for name, column in self.columns.items()
        }
        return replace(self, columns=columns, alternates={})

    def read_columns(self, header: Sequence[str]) -> list[str]:
        """The columns a reader takes from a file with ``header``: each field's and the duplicate flag's, if there."""
        present = set(header)
        return [c for c in [*self.columns.values(), self.duplicate_flag] if c and c in present]

    def score(self, header: Sequence[str]) -> tuple[bool, int]:
        """Whether ``header`` has this layout's required columns, and how many of its columns it has."""
        present, columns = set(header), self.for_header(header).columns
        required = all(columns[name] in present for name in REQUIRED)
        return required, sum(column in present for column in columns.values())


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
        duplicate_meaning="duplicate_likely: the same person on the same prepare date; the first is kept",
    ),
    Layout(
        "ddp-merged",
        "the Deportation Data Project's merged file of several releases",
        {
            "prepare_date": "prepare_date",
            "facility": "detention_facility",
            "facility_code": "detention_facility_code",
            "city": "facility_city",
            "state": "facility_state",
            "aor": "facility_aor",
            "lift_reason": "detainer_lift_reason",
            "detainer_type": "detainer_type",
            "person_id": "unique_identifier",
            "release": "source_file",
        },
        duplicate_flag="drop_row",
        duplicate_rule=LEAVE_OUT,
        duplicate_meaning=(
            "drop_row: a record within 24 hours, 24 hours exactly included, after the same person's previous record "
            "(duplicate_likely marks both); the first is kept"
        ),
    ),
    Layout(
        "duckdb-releases",
        "a DuckDB build of ICE's releases (unique_id, data_source)",
        {
            "prepare_date": "detainer_prepare_date",
            "facility": "detainer_facility",
            "facility_code": "detainer_facility_code",
            "city": "facility_city",
            "state": "facility_state",
            "aor": "facility_aor",
            "lift_reason": "detainer_lift_reason",
            "detainer_type": "detainer_type",
            "person_id": "unique_id",
            "release": "data_source",
        },
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
        alternates={"facility": ("Detention Facility",)},
    ),
)


def find_layout(header: Sequence[str]) -> Layout | None:
    """The layout whose required columns ``header`` has, preferring the one it matches most; ``None`` if none."""
    fitting = [(layout.score(header)[1], -number, layout) for number, layout in enumerate(LAYOUTS)]
    complete = [entry for entry in fitting if entry[2].score(header)[0]]
    return max(complete, key=lambda entry: entry[:2])[2].for_header(header) if complete else None


def closest_layout(header: Sequence[str]) -> Layout:
    """The layout ``header`` shares most columns with (to say which required ones it lacks)."""
    return max(LAYOUTS, key=lambda layout: layout.score(header)[1]).for_header(header)


#: A row naming this many columns of one layout is its header, even if a required one is missing (then said so).
HEADER_NAMES = 3


def looks_like_header(row: Sequence[object]) -> bool:
    """Whether a row of cells is a header: it names at least :data:`HEADER_NAMES` columns of one layout."""
    cells = [str(cell).strip() for cell in row if cell is not None]
    return closest_layout(cells).score(cells)[1] >= HEADER_NAMES
