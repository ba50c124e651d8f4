"""The facilities of an export: each one's identity, its place, its records; and finding an agency's facilities.

A facility is one combination of code, name, city and state as ICE typed it.
The search matches a query's words against the names, ignoring case,
punctuation and ICE's usual abbreviations, and ranks near misses with
rapidfuzz, so a user can find which facilities belong to an agency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.checks import as_plain_key
from analysis.errors import ParameterError, shown
from analysis.ice.export import Export

#: ICE's usual abbreviations in facility names, and what they stand for.
ABBREVIATIONS = {
    "DEPT": "DEPARTMENT",
    "DEP": "DEPARTMENT",
    "PD": "POLICE DEPARTMENT",
    "CNTY": "COUNTY",
    "CO": "COUNTY",
    "CORR": "CORRECTIONAL",
    "CORRECTIONS": "CORRECTIONAL",
    "CTR": "CENTER",
    "FAC": "FACILITY",
    "DET": "DETENTION",
    "SHERIFFS": "SHERIFF",
    "OFC": "OFFICE",
}
#: A near miss must come this close (rapidfuzz's ratio, 0-100) to every word of the query.
NEAR_MISS = 75


@dataclass(frozen=True)
class Facilities:
    """Each record's facility (an index into ``table``), and one row per facility."""

    of_record: np.ndarray
    table: pd.DataFrame


def facilities(export: Export) -> Facilities:
    """The distinct facilities of ``export``: ``code``, ``name``, ``city``, ``state``, ``aor``, first and last dates.

    ``agency`` is the name as ICE writes it, with the code (or place) in
    brackets when several facilities share that name, and ``jurisdiction``
    is ``City, ST``.
    """
    text = export.text
    parts = [text[f].codes + 1 for f in ("facility_code", "facility", "city", "state")]
    key = parts[0]
    for column, part in zip(("facility", "city", "state"), parts[1:], strict=True):
        key = key * (len(text[column].values) + 1) + part
    _, first, of_record = np.unique(key, return_index=True, return_inverse=True)
    dates = pd.Series(export.dates)
    spans = dates.groupby(of_record).agg(["min", "max"])
    table = pd.DataFrame(
        {
            "code": text["facility_code"].decode(text["facility_code"].codes[first]),
            "name": text["facility"].decode(text["facility"].codes[first]),
            "city": text["city"].decode(text["city"].codes[first]),
            "state": text["state"].decode(text["state"].codes[first]),
            "aor": text["aor"].decode(text["aor"].codes[first]),
            "first_prepare_date": spans["min"].dt.strftime("%Y-%m-%d").to_numpy(),
            "last_prepare_date": spans["max"].dt.strftime("%Y-%m-%d").to_numpy(),
        }
    )
    table.insert(0, "agency", _agency_names(table))
    table.insert(1, "jurisdiction", [_place(c, s) for c, s in zip(table["city"], table["state"], strict=True)])
    return Facilities(np.asarray(of_record).ravel(), table)


def _place(city: str, state: str) -> str:
    place = ", ".join(part for part in (city.title() if city.isupper() else city, state) if part)
    return as_plain_key(place) or "place not given"


def _agency_names(table: pd.DataFrame) -> list[str]:
    """Each facility's name as ICE writes it; where several share a name, followed by what tells them apart.

    The code in brackets, else the place, else both, else a number: whatever
    first makes every name of the group different, so each facility is one
    agency of the data folder. Names, codes and places are made plain keys
    first (:func:`analysis.data.checks.as_plain_key`: one space between words,
    a control character written as its escape), so the data folder written
    passes the loader's rules.
    """
    names = [as_plain_key(str(name)) or "(facility not named)" for name in table["name"]]
    places = [_place(str(c), str(s)) for c, s in zip(table["city"], table["state"], strict=True)]
    codes = [as_plain_key(str(code)) for code in table["code"]]
    groups: dict[str, list[int]] = {}
    for row, name in enumerate(names):
        groups.setdefault(name, []).append(row)
    shown = list(names)
    for name, rows in groups.items():
        if len(rows) == 1:
            continue
        for tags in (
            [codes[r] for r in rows],
            [places[r] for r in rows],
            [f"{codes[r]}, {places[r]}" for r in rows],
            [f"{codes[r] or places[r]}, {n}" for n, r in enumerate(rows, start=1)],
        ):
            if len(set(tags)) == len(rows) and all(tags):
                break
        for r, tag in zip(rows, tags, strict=True):
            shown[r] = f"{name} [{tag}]"
    return shown


def words(name: str) -> list[str]:
    """A facility name or query as words: capitals, no punctuation, abbreviations written out."""
    tokens = re.sub(r"[^0-9A-Z]+", " ", name.upper()).split()
    return " ".join(ABBREVIATIONS.get(token, token) for token in tokens).split()


def search(table: pd.DataFrame, query: str) -> pd.DataFrame:
    """The facilities whose names hold every word of ``query``, then near misses; with a ``match`` score.

    A name scores the mean, over the query's words, of its closest word's
    similarity (rapidfuzz's ratio, 0-100): 100 when it holds every word, less
    for a misspelling. A name is kept when each word of the query comes within
    :data:`NEAR_MISS` of one of its words. The query is words, never a pattern.

    Raises
    ------
    ParameterError
        When ``query`` holds no word (only punctuation, say).
    """
    from rapidfuzz import fuzz, process

    wanted = words(query)
    if not wanted:
        raise ParameterError(
            f"--search {shown(query)!r}: holds no word (letters or digits) to look for; the search takes words of "
            "a facility's name, not a pattern"
        )
    scores, close = [], []
    for name in table["name"]:
        present = words(str(name))
        best = [
            float(found[1]) if (found := process.extractOne(w, present, scorer=fuzz.ratio)) else 0.0 for w in wanted
        ]
        scores.append(round(sum(best) / len(wanted), 1))
        close.append(min(best) >= NEAR_MISS)
    return table.assign(match=scores)[close]
