"""Synthetic exports in the layout of ICE's FOIA detainer releases, at any size.

Nothing here is real: facility names, codes and identifiers are made up and
say so. The column names, the two naming generations, the spread of dates over
two federal fiscal years, the mix of lift reasons and a share of likely
duplicates (the same person again within hours) follow the public releases.

Run as a script to write a file: ``python tests/ice_export.py ROWS PATH``
(the extension picks CSV, parquet or xlsx).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: Column names of the two generations of releases seen so far.
GENERATIONS = {
    1: {"facility": "Detention Facility", "code": "Detention Facility Code", "person": "Unique Identifier"},
    2: {"facility": "Detainer Facility", "code": "Detainer Facility Code", "person": "Anonymized Identifier"},
}
#: (code, name, city, state, AOR, weight): clearly fictional facilities.
FACILITIES = [
    ("FICTCPD", "FICTIONAL CITY POLICE DEPARTMENT", "FICTIONAL CITY", "MA", "BOS", 5),
    ("FICTCNTY", "FICTIONAL COUNTY JAIL", "FICTIONAL CITY", "MA", "BOS", 3),
    ("EXMPLSO", "EXAMPLE COUNTY SHERIFF OFFICE", "EXAMPLEVILLE", "NY", "NYC", 4),
    ("SAMPLEPD", "SAMPLE TOWN POLICE DEPARTMENT", "SAMPLE TOWN", "TX", "HOU", 2),
    ("MADEUPHC", "MADE-UP HOUSE OF CORRECTION", "NOWHERE", "CA", "LOS", 1),
]
LIFT_REASONS = ["", "Detainer Declined by LEA", "Removed", "Released by LEA", "Charges Dropped", "Case Closed"]
LIFT_WEIGHTS = [0.55, 0.06, 0.2, 0.09, 0.05, 0.05]
DETAINER_TYPES = ["Immigration Detainer - Notice of Action (I-247A)", "Request for Voluntary Notification (I-247N)"]
START, END = pd.Timestamp("2023-10-01"), pd.Timestamp("2025-09-30 23:59:59")


def make_export(rows: int, seed: int = 0, generation: int = 2, duplicate_share: float = 0.03) -> pd.DataFrame:
    """A synthetic export of ``rows`` detainers, about ``duplicate_share`` of them likely duplicates."""
    rng = np.random.default_rng(seed)
    names = GENERATIONS[generation]
    weights = np.array([f[5] for f in FACILITIES], dtype=float)
    facility = rng.choice(len(FACILITIES), size=rows, p=weights / weights.sum())
    seconds = int((END - START).total_seconds())
    dates = START + pd.to_timedelta(rng.integers(0, seconds, size=rows), unit="s")
    people = rng.integers(10**8, 10**9, size=rows).astype(str)
    # What: some detainers repeat the previous person within a few hours (a likely duplicate).
    repeat = rng.random(rows) < duplicate_share
    repeat[0] = False
    source = np.flatnonzero(repeat) - 1
    people[repeat] = people[source]
    facility[repeat] = facility[source]
    dates = pd.Series(dates)
    dates[repeat] = dates.iloc[source].to_numpy() + pd.to_timedelta(rng.integers(60, 20 * 3600, repeat.sum()), "s")
    dates = dates.clip(upper=END)
    table = {
        column: np.array([f[i] for f in FACILITIES])[facility]
        for i, column in enumerate(
            [names["code"], names["facility"], "Facility City", "Facility State", "Facility AOR"]
        )
    }
    return pd.DataFrame(
        {
            "Detainer Prepare Date": dates.dt.strftime("%Y-%m-%d %H:%M:%S"),
            **table,
            "Detainer Lift Reason": rng.choice(LIFT_REASONS, size=rows, p=LIFT_WEIGHTS),
            "Detainer Type": rng.choice(DETAINER_TYPES, size=rows),
            names["person"]: np.char.add("FAKE-", people),
            "Citizenship Country": rng.choice(["MEXICO", "GUATEMALA", "HONDURAS", "BRAZIL"], size=rows),
        }
    )


def write_export(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as CSV, parquet (prepare dates as timestamps, as published) or xlsx, by extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.assign(**{"Detainer Prepare Date": pd.to_datetime(frame["Detainer Prepare Date"])}).to_parquet(
            path, index=False
        )
    elif path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False, lineterminator="\n")
    return path


if __name__ == "__main__":
    write_export(make_export(int(sys.argv[1])), Path(sys.argv[2]))
