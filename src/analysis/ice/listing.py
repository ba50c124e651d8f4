"""``detainers ice-facilities``: an export's facilities, largest first, with detainers and declines per period."""

from __future__ import annotations

import re

import pandas as pd

from analysis.errors import ParameterError
from analysis.ice.export import Export
from analysis.ice.facilities import search
from analysis.ice.ingest import ingest
from analysis.ice.mapping import MAPPING_COLUMNS
from analysis.ice.states import state_code


def facility_listing(
    export: Export, year_basis: str, state: str | None = None, query: str | None = None
) -> pd.DataFrame:
    """One row per facility: ``code``, ``name``, ``city``, ``state``, ``aor``, then ``detainers PERIOD`` and
    ``declined PERIOD`` for each period, and ``detainers`` in all; largest first (best match first when searching).

    Raises
    ------
    ParameterError
        When ``state`` is not a US state or territory.
    """
    result = ingest(export, None, year_basis)
    table = result.facilities.copy() if result.facilities is not None else pd.DataFrame()
    observations = result.counts.observations
    wide = observations.pivot_table(index="agency", columns="period", values=["requests", "declined"], aggfunc="sum")
    periods = sorted(observations["period"].unique(), key=lambda p: str(p).replace(" (partial)", ""))
    for period in periods:
        table[f"detainers {period}"] = table["agency"].map(wide["requests"][period]).fillna(0).astype("int64")
        table[f"declined {period}"] = table["agency"].map(wide["declined"][period]).fillna(0).astype("int64")
    table["detainers"] = table[[f"detainers {p}" for p in periods]].sum(axis=1)
    if state:
        code = state_code(state)
        if not code:
            raise ParameterError(f"--state {state!r} is not a US state or territory (a full name or a USPS code)")
        table = table[table["state"] == code]
    order = ["detainers", "name", "code"]
    if query:
        table = search(table, query)
        order = ["match", *order]
    ascending = [False] * (len(order) - 2) + [True, True]
    table = table.sort_values(order, ascending=ascending, kind="stable")
    return table.drop(columns=["first_prepare_date", "last_prepare_date"]).reset_index(drop=True)


def name_pattern(name: str) -> str:
    """An RE2 pattern matching exactly ``name``, case included (``(?-i)``: a mapping's patterns otherwise ignore
    case, and "Jail One" would take the records of "JAIL ONE" too): its special characters escaped, and every
    character a terminal would show as an escape (a control, zero-width or no-break character) written as RE2's
    ``\\x{HEX}``, so the pattern survives being printed and is one RE2 reads (it has no ``\\u`` escape)."""
    return "(?-i)^" + "".join(re.escape(ch) if ch.isprintable() else f"\\x{{{ord(ch):x}}}" for ch in name) + "$"


def mapping_rows(table: pd.DataFrame, agency: str) -> pd.DataFrame:
    """Facilities as rows of a mapping file to edit: the code where there is one, else the exact name as a pattern;
    the agency ``agency``, else the facility as ``ingest-ice --by facility`` names it (a plain key, with what tells
    it apart from facilities of the same name)."""
    return pd.DataFrame(
        {
            "facility_code": table["code"],
            "facility_pattern": [
                "" if code else name_pattern(str(name)) for code, name in zip(table["code"], table["name"], strict=True)
            ],
            "agency": agency or table["agency"],
            "jurisdiction": table["jurisdiction"],
        },
        columns=list(MAPPING_COLUMNS),
    )
