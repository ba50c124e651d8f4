"""Synthetic detainer records in the layouts of ICE's FOIA releases and of their processed copies, at any size.

Nothing here is real: facilities, codes, cities, ports and identifiers are made up and look it, but are typed the
way ICE types names (capitals, "PD", "CNTY", "CORR.", "C.F.,TOWN"). The layouts (:data:`LAYOUTS`) are
``ice-2025`` (the raw 2025-ICLI-00019 workbook, "Final Order Yes No" twice), ``ice-2026`` (the raw 2026-ICLI-00005
workbooks), ``ddp`` (the Deportation Data Project's processed file) and ``npr`` (ICE's FY2008-FY2015 release).

The same seed gives the same detainers, column by column, in every layout. About ``duplicate_share`` of the rows
are the same person again at the same facility within 20 hours; about 2% have a redacted identifier.

Run as a script: ``python ice_export.py ROWS PATH [LAYOUT]`` (the extension picks csv, parquet, xlsx or dta).
"""

from __future__ import annotations

import csv
import re
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# fmt: off
_YES_NO = ("Prior Felony Yes No | Multiple Prior MISD Yes No | Violent Misdemeanor Yes No | Illegal Entry Yes No | "
           "Illegal Reentry Yes No | Immigration Fraud Yes No | Significant Risk Yes No | Other Removal Reason Yes No | "
           "Other Removal Reason | Criminal Street Gang Yes No | Aggravated Felony Yes No | Deportation Ordered Yes No | "
           "Order to Show Cause Served Yes No | Order to Show Cause Served Date | Biometric Match Yes No | "
           "Statements Made Yes No | Unlawful Attempt Yes No | Unlawful Entry Yes No | Visa Yes No | ")
_HEAD = "Detainer Prepare Date | Facility State | Facility AOR | Port of Departure | Departure Country | Departed Date | "
_PERSON = "Gender | Citizenship Country | Birth Country | Birth Date | Birth Year | Entry Status | "
_MSC = "MSC Sentence Days | MSC Sentence Months | MSC Sentence Years | MSC Charge Code | MSC Charge Date | "
_RAW = {
    "ice-2025": f"{_HEAD}Case Status | Detainer Prepared Criminality | Detention Facility | Detention Facility Code | "
    f"Facility City | Detainer Prep Threat Level | {_PERSON}Most Serious Conviction (MSC) Charge | {_MSC}"
    "MSC Conviction Date | Felon | Processing Disposition | Case Category | Final Program | "
    "Time of Apprehension Case Category | Time of Apprehension Current Program | Apprehension Method | "
    f"Case Final Order Yes No | Final Order Date | Apprehension Date | Entry Date | {_YES_NO}Final Order Yes No | "
    "Federal Interest Yes No | Resume Custody Yes No | Detainer Lift Reason | Detainer Type | Alien File Number | "
    "EID Case ID | EID Subject ID | EID DTA ID | Unique Identifier",
    "ice-2026": f"{_HEAD}Case Status | Detainer Criminality | Detainer Facility | Detainer Facility Code | Facility City | "
    f"Detainer Threat Level | {_PERSON}MSC Charge | {_MSC}MSC Conviction Date | Aggravated Felon Yes No | "
    "Processing Disposition | Case Category | TOA Case Category | TOA Current Program | Apprehension Method | "
    f"Final Order Yes No | Final Order Date | Apprehension Date | Entry Date | {_YES_NO}"
    "Federal Register Notice Yes No | Resume Custody Yes No | Detainer Lift Reason | Detainer Lift Reason Code | "
    "Active Investigation Yes No | Arrest Warrant Served Date | Detainer Type | Notify Release Request Yes No | "
    "TOD Current Duty Site | EID DTA ID | Anonymized Identifier",
    "npr": "Prepare Date | Detainer Lift Reason | Detainer Detention Facility | City | State | Detainer Type",
}
#: clean_names() of a raw name -> its DDP name, which is also the key of its values here.
RENAMES = {
    "detainer_criminality": "detainer_prepared_criminality", "detainer_facility": "detention_facility",
    "detainer_facility_code": "detention_facility_code", "detainer_threat_level": "detainer_prep_threat_level",
    "msc_charge": "most_serious_conviction_charge", "most_serious_conviction_msc_charge": "most_serious_conviction_charge",
    "aggravated_felon_yes_no": "felon", "anonymized_identifier": "unique_identifier",
    "toa_case_category": "arrest_time_case_category", "time_of_apprehension_case_category": "arrest_time_case_category",
    "toa_current_program": "arrest_time_current_program",
    "time_of_apprehension_current_program": "arrest_time_current_program",
    "federal_register_notice_yes_no": "federal_interest_yes_no", "case_final_order_yes_no": "final_order_yes_no",
    "order_to_show_cause_served_yes_no": "order_show_cause_served_yes_no", "prepare_date": "detainer_prepare_date",
    "detainer_detention_facility": "detention_facility", "city": "facility_city", "state": "facility_state",
}
#: (code, name, city, state, AOR city, weight). FICTCPD and FICTCYPD differ only by abbreviation;
#: FICTCNTY and FICTCJTX share a name in two states.
FACILITIES = [
    ("FICTCPD", "FICTIONAL CITY POLICE DEPT.", "FICTIONAL CITY", "MASSACHUSETTS", "Boston", 6),
    ("FICTCYPD", "FICTIONAL CITY PD", "FICTIONAL CITY", "MASSACHUSETTS", "Boston", 2),
    ("FICTCNTY", "FICTIONAL CNTY JAIL", "FICTIONAL CITY", "MASSACHUSETTS", "Boston", 3),
    ("EXMPLSO", "EXAMPLE CO. SHERIFF'S OFFICE", "EXAMPLEVILLE", "NEW YORK", "New York City", 4),
    ("EXMPCPD", "EXAMPLE CITY PD", "EXAMPLE CITY", "NEW YORK", "New York City", 2),
    ("EXMPLCF", "EXAMPLEVILLE C.F.,NOWHERE", "NOWHERE", "MINNESOTA", "St. Paul", 2),
    ("SAMPLEPD", "SAMPLE TOWN PD", "SAMPLE TOWN", "TEXAS", "Houston", 2),
    ("FICTCJTX", "FICTIONAL CNTY JAIL", "FAKETOWN", "TEXAS", "Houston", 2),
    ("MADEUPHC", "MADE-UP CO. HOUSE OF CORR.", "PRETENDBURG", "PENNSYLVANIA", "Philadelphia", 1),
    ("FICTDOC", "FICTIONAL STATE CORR. INST.,NOWHERE", "NOWHERE", "PENNSYLVANIA", "Philadelphia", 1),
]
#: Text columns: value -> weight (None is a blank cell).
VOCAB: dict[str, dict[str | None, float]] = {
    "detainer_lift_reason": {
        None: 34, "Booked into Detention": 20, "Detainer Declined by LEA": 6, "Case Closed": 4, "Duplicate": 3,
        "Early Release": 3, "ICE Temporary Resource Constraint": 1, "Insufficient Notice to ICE": 2,
        "No longer in State, Local, or Federal Custody": 12, "Not Amenable to Removal": 2,
        "Prosecutorial Discretion": 3, "Superseding - New Form Issued": 8, "USC or Presumptive Claim to US Citizenship": 2},
    "npr_lift_reason": {
        None: 33, "Booked into Detention": 25, "Lifted": 12, "Case Closed": 5, "Transferred": 5, "Early Release": 4,
        "Detainer Declined by LEA": 5, "Alien Not Subject to Deportation": 3, "United States Citizen Interviewed": 2,
        "Prosecutorial Discretion": 5, "Died": 1},
    "port_of_departure": {"FICTIONAL CITY, TX, POE": 15, "EXAMPLE BAY, MA, POE": 10, None: 75},
    "departure_country": {"MEXICO": 10, "GUATEMALA": 6, "HONDURAS": 5, "EL SALVADOR": 3, "BRAZIL": 2, None: 74},
    "case_status": {"ACTIVE": 35, "8-Excluded/Removed - Inadmissibility": 10, "6-Deported/Removed - Deportability": 5,
                    None: 50},
    "detainer_prepared_criminality": {"1 Convicted Criminal": 45, "2 Pending Criminal Charges": 40,
                                      "3 Other Immigration Violator": 15},
    "gender": {"Male": 86, "Female": 13, "Unknown": 1},
    "citizenship_country": {"MEXICO": 40, "GUATEMALA": 20, "HONDURAS": 18, "EL SALVADOR": 12, "BRAZIL": 6,
                            "CHINA, PEOPLES REPUBLIC OF": 4},
    "birth_country": {"MEXICO": 40, "GUATEMALA": 20, "HONDURAS": 18, "EL SALVADOR": 12, "BRAZIL": 6, None: 4},
    "entry_status": {"PWA Mexico": 40, "Not  Applicable": 20, "B2 - Visitor for Pleasure": 16, None: 24},
    "processing_disposition": {"Detainer": 90, "Notice to Appear (I-862)": 6, "Reinstated Final Order (I-871)": 4},
    "case_category": {"[8B] Excludable / Inadmissible - Under Adjudication by IJ": 25, "[16] Reinstated Final Order": 15,
                      "[8C] Excludable / Inadmissible - Administrative Final Order Issued": 10, None: 50},
    "final_program": {"ERO Criminal Alien Program": 80, "287(g) Program": 15, "Non-Detained Docket Control": 5},
    "arrest_time_current_program": {"ERO Criminal Alien Program": 20, "287(g) Program": 4, None: 76},
    "apprehension_method": {"CAP Local Incarceration": 12, "CAP State Incarceration": 5, "287(g) Program": 4,
                            "Located": 2, None: 77},
    "other_removal_reason": {"OTHER - FICTIONAL TEST REASON": 2, None: 98},
    "yes_no": {"YES": 10, "NO": 45, None: 45},
}
VOCAB["arrest_time_case_category"] = dict(zip(VOCAB["case_category"], [5, 4, 5, 86], strict=True))
DETAINER_TYPES = ["I247A - Immigration Detainer - Immigration Detainer - Notice of Action",  # before May 2025
                  "I247A - Immigration Detainer - Notice of Action (as of May 2025)",
                  "I247D - Immigration Detainer - Request for Action",
                  "I247N - Immigration Advisal - Request for Notification"]
NPR_DETAINER_TYPES = ["I247 - Immigration Detainer - Notice of Action (as of March 2013)", *DETAINER_TYPES[2:]]
CHARGES = [("Driving Under Influence Liquor", "5404"), ("Traffic Offense", "5499"), ("Assault", "1399"),
           ("Liquor", "4199"), ("Marijuana - Sell", "3560"), ("Homicide", "0999"), (None, None)]
TITLE = ["U.S. Immigration and Customs Enforcement", "ERO Detainers", "{label} (through {last:%m/%d/%Y})",
         "Data Source: fictional test data", "", ""]  # What: Excel rows 1-6, column A only.
# fmt: on
REDACTED = ["b(6), b(7)c", "(b)(6), (b)(7)(c)"]
PROVENANCE = ["duplicate_likely", "file_original", "sheet_original", "row_original"]
MAX_ROWS = 1_048_576 - 7  # data rows on one Excel sheet below a title block and header


def _key(name: str) -> str:
    clean = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return RENAMES.get(clean, clean)


#: Column names of each layout, in order.
LAYOUTS: dict[str, list[str]] = {k: [n.strip() for n in v.split("|")] for k, v in _RAW.items()}
LAYOUTS["ddp"] = [*map(_key, LAYOUTS["ice-2026"]), *PROVENANCE]
#: The Deportation Data Project's merged file: every release's rows, the prepare date as ``prepare_date``, the
#: release in ``source_file``, and its two duplicate columns.
LAYOUTS["ddp-merged"] = [
    "prepare_date" if c == "detainer_prepare_date" else c for c in LAYOUTS["ddp"] if c not in PROVENANCE
] + ["source_file", "duplicate_likely", "drop_row"]
#: The releases of the merged file and the first prepare date each contributes (each the last release's rows only).
MERGED_RELEASES = (("npr", "2007-10-01"), ("2025-ICFO-18038", "2017-06-18"), ("120125", "2025-03-16"))
#: A DuckDB build of the releases (a peer's published data dictionary): each release's own names side by side, the
#: identifier as ``unique_id``, the release in ``data_source``.
LAYOUTS["duckdb-releases"] = (  # noqa: SIM905 - 76 names, written as words
    "detainer_prepare_date facility_state facility_aor port_of_departure departure_country departed_date case_status "
    "detainer_prepared_criminality detention_facility detention_facility_code facility_city detainer_prep_threat_level "
    "gender citizenship_country birth_country birth_year entry_status most_serious_conviction_msc_charge "
    "msc_sentence_days msc_sentence_months msc_sentence_years msc_charge_code msc_charge_date msc_conviction_date "
    "felon processing_disposition case_category final_program time_of_apprehension_case_category "
    "time_of_apprehension_current_program apprehension_method case_final_order_yes_no final_order_date "
    "apprehension_date entry_date prior_felony_yes_no multiple_prior_misd_yes_no violent_misdemeanor_yes_no "
    "illegal_entry_yes_no illegal_reentry_yes_no immigration_fraud_yes_no significant_risk_yes_no "
    "other_removal_reason_yes_no criminal_street_gang_yes_no aggravated_felony_yes_no deportation_ordered_yes_no "
    "order_to_show_cause_served_yes_no biometric_match_yes_no statements_made_yes_no unlawful_attempt_yes_no "
    "unlawful_entry_yes_no visa_yes_no final_order_yes_no federal_interest_yes_no resume_custody_yes_no "
    "detainer_lift_reason detainer_type alien_file_number case_id subject_id eid_dta_id unique_id data_source "
    "detainer_criminality detainer_facility detainer_facility_code detainer_threat_level msc_charge "
    "aggravated_felon_yes_no toa_case_category toa_current_program federal_register_notice_yes_no "
    "detainer_lift_reason_code active_investigation_yes_no notify_release_request_yes_no tod_current_duty_site"
).split()
#: The DuckDB build's releases, and the first prepare date of each here (a made-up split: the build keeps each
#: release's rows as they are).
DUCKDB_RELEASES = (("release_2023", "2007-10-01"), ("release_2025", "2024-06-01"), ("release_2026", "2025-03-16"))


def _rng(seed: int, key: str) -> np.random.Generator:
    """One stream per column, so a column has the same values in every layout."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def _take(values: list, codes: np.ndarray, kind: pa.DataType | None = None) -> pa.Array:
    return pc.take(pa.array(values, kind or pa.string()), pa.array(codes))


def _pick(rng: np.random.Generator, n: int, weights: dict[str | None, float]) -> pa.Array:
    p = np.array(list(weights.values()), dtype=float)
    return _take(list(weights), rng.choice(len(p), n, p=p / p.sum()))


def _dates(rng: np.random.Generator, n: int, lo: str, hi: str, filled: float = 1.0, times: bool = False) -> np.ndarray:
    seconds = rng.integers(pd.Timestamp(lo).value // 10**9, pd.Timestamp(hi).value // 10**9, n)
    out = (seconds if times else seconds - seconds % 86400).astype("datetime64[s]").astype("datetime64[us]")
    return np.where(rng.random(n) < filled, out, np.datetime64("NaT"))


def make_records(
    rows: int, seed: int = 0, layout: str = "ice-2026", duplicate_share: float = 0.03,
    start: str | None = None, end: str | None = None, *, birth_date: bool = True,
) -> pd.DataFrame:  # fmt: skip
    """``rows`` detainers in ``layout``, prepared from ``start`` to ``end`` (default FY2024-25; npr FY2008-15).

    Dates are Timestamps (ice-*), python dates where a column has no times (ddp), or m/d/yy text (npr).
    ``birth_date=False`` leaves out Birth Date, as the FY23/FY24 workbooks of 2026-ICLI-00005 do.
    """
    if layout in ("ddp-merged", "duckdb-releases"):
        return _combined(make_records(rows, seed, "ddp", duplicate_share, start, end, birth_date=birth_date), layout)
    n, npr, ddp = rows, layout == "npr", layout == "ddp"
    start = start or ("2007-10-01" if npr else "2023-10-01")
    end = end or ("2015-06-30" if npr else "2025-09-30 23:59:59")
    rng = np.random.default_rng(seed)
    weights = np.array([f[5] for f in FACILITIES], dtype=float)
    facility, date = rng.choice(len(FACILITIES), n, p=weights / weights.sum()), _dates(rng, n, start, end, times=True)
    person, repeat = rng.integers(10**8, 10**9, n), rng.random(n) < duplicate_share
    repeat[:1] = False
    base = np.maximum.accumulate(np.where(repeat, 0, np.arange(n)))  # What: a repeat copies the last non-repeat.
    facility, person, later = facility[base], person[base], rng.integers(60, 20 * 3600, n).astype("timedelta64[s]")
    last = pd.Timestamp(end).to_datetime64().astype("datetime64[us]")
    date = np.minimum(np.where(repeat, date[base] + later, date[base]), last)
    redacted = rng.random(n) < 0.02
    cols: dict[str, pa.Array | np.ndarray] = {
        key: _take([f[i] for f in FACILITIES], facility)
        for i, key in enumerate(["detention_facility_code", "detention_facility", "facility_city", "facility_state"])
    }
    cols["facility_aor"] = _take([f"{f[4]} Area of Responsibility" for f in FACILITIES], facility)
    cols["tod_current_duty_site"] = _take([f"{f[2]} SUB-OFFICE" for f in FACILITIES], facility)
    cols["detainer_prepare_date"] = date.astype("datetime64[D]") if ddp else date
    ids = pc.binary_join_element_wise("FAKE-", pc.cast(pa.array(person), pa.string()), "")
    marker = pa.nulls(n, pa.string()) if ddp else _take(REDACTED, _rng(seed, "marker").integers(0, 2, n))
    cols["unique_identifier"] = pc.if_else(pa.array(redacted), marker, ids)
    for key in ("alien_file_number", "eid_case_id", "eid_subject_id", "eid_dta_id"):
        cols[key] = marker if ddp else _take(REDACTED, _rng(seed, key).integers(0, 2, n))
    reason = cols["detainer_lift_reason"] = _pick(_rng(seed, "reason"), n, VOCAB["detainer_lift_reason"])
    codes = pc.index_in(reason, pa.array(list(VOCAB["detainer_lift_reason"])[1:]))  # What: a blank has no code.
    cols["detainer_lift_reason_code"] = _take(list("ABCDEFGHJKLM"), codes)
    kind = _rng(seed, "type").choice(3, n, p=[0.8, 0.05, 0.15])  # What: I247A, I247D, I247N
    if npr:
        recent = pa.array(date >= np.datetime64("2014-01-01"))  # What: NPR's types start in 2014.
        cols["detainer_type"] = pc.if_else(recent, _take(NPR_DETAINER_TYPES, kind), None)
        cols["detainer_lift_reason"] = _pick(_rng(seed, "npr_reason"), n, VOCAB["npr_lift_reason"])
        other = pa.array(_rng(seed, "other").random(n) < 0.01)  # What: facility unknown, city and state blank.
        cols["detention_facility"] = pc.if_else(other, "OTHER-OTHER FACILITY", cols["detention_facility"])
        for key in ("facility_city", "facility_state"):
            cols[key] = pc.if_else(other, pa.scalar(None, pa.string()), cols[key])
        day = pd.Series(date)
        mdy = day.dt.month.astype(str) + "/" + day.dt.day.astype(str) + "/" + day.dt.strftime("%y")
        cols["detainer_prepare_date"] = pa.array(mdy)
    else:
        may2025 = (kind == 0) & (date >= np.datetime64("2025-05-01"))
        cols["detainer_type"] = _take(DETAINER_TYPES, np.where(kind == 0, may2025, kind + 1))
        birth = _dates(_rng(seed, "birth"), n, "1950-01-01", "2007-01-01")
        cols["birth_date"], cols["birth_year"] = birth, birth.astype("datetime64[Y]").astype(int) + 1970
        level = _rng(seed, "level").choice(4, n, p=[0.3, 0.2, 0.44, 0.06])
        cols["detainer_prep_threat_level"] = _take([1.0, 2.0, 3.0, None], level, pa.float64())
        msc = _rng(seed, "msc")
        convicted = msc.random(n) < 0.3
        charge = np.where(convicted, msc.integers(0, len(CHARGES) - 1, n), len(CHARGES) - 1)
        cols["most_serious_conviction_charge"] = _take([c[0] for c in CHARGES], charge)
        cols["msc_charge_code"] = _take([c[1] for c in CHARGES], charge)
        for key, high in (("days", 365), ("months", 12), ("years", 5)):
            cols[f"msc_sentence_{key}"] = np.where(convicted, msc.integers(0, high, n), np.nan)
        charged = np.where(convicted, _dates(msc, n, "2005-01-01", "2023-06-30"), np.datetime64("NaT"))
        cols["msc_charge_date"] = charged
        cols["msc_conviction_date"] = charged + msc.integers(0, 365, n).astype("m8[D]")
        cols["apprehension_date"] = _dates(_rng(seed, "apprehension"), n, "2015-01-01", "2025-09-30", 0.23, True)
        felon = _rng(seed, "felon").choice(3, n, p=[0.1, 0.85, 0.05])
        labels = ["Aggravated Felon", "Not an Aggravated Felon"] if layout == "ice-2025" else ["YES", "NO"]
        cols["felon"] = _take([*labels, None], felon)
        final = _rng(seed, "final_order").choice(3, n, p=[0.2, 0.3, 0.5])
        cols["final_order_yes_no"] = _take(["YES", "NO", None], final)
        when = _dates(_rng(seed, "final_order_date"), n, "2010-01-01", "2025-09-30")
        cols["final_order_date"] = np.where(final == 0, when, np.datetime64("NaT"))
    names, keys = [c for c in LAYOUTS[layout] if c != "Birth Date" or birth_date], []
    for key in names if ddp else map(_key, names):
        keys.append(key + "_2" if key in keys else key)  # What: 2025's second "Final Order Yes No".
    for key in set(keys) - set(cols) - set(PROVENANCE):
        rng = _rng(seed, key)
        if key in VOCAB or "yes_no" in key:
            cols[key] = _pick(rng, n, VOCAB.get(key, VOCAB["yes_no"]))
        else:  # What: the other dates (departed, entry, order to show cause served, arrest warrant served).
            cols[key] = _dates(rng, n, "2000-01-01", "2025-09-30", 0.25)
    order = np.arange(n)
    if ddp:
        cols.update(_provenance(date, person, redacted))
        order = np.argsort(cols.pop("fiscal_year"), kind="stable")
    arrays = []
    for key in keys:
        array = cols[key] if isinstance(cols[key], pa.Array) else pa.array(cols[key], from_pandas=True)
        if ddp and pa.types.is_timestamp(array.type):  # What: as DDP, a date-time column without times is a date.
            midnight = pc.equal(array.cast(pa.date32()).cast(array.type), array)
            array = array.cast(pa.date32()) if pc.all(midnight).as_py() in (True, None) else array
        arrays.append(array.take(order))
    return pa.Table.from_arrays(arrays, names=names).to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)


def _provenance(date: np.ndarray, person: np.ndarray, redacted: np.ndarray) -> dict[str, pa.Array | np.ndarray]:
    """DDP's duplicate_likely (same id and prepare date; missing without id) and the file, sheet and row of a row."""
    day = date.astype("datetime64[D]").astype(np.int64)
    key = np.where(redacted, -1 - np.arange(len(day)), person * 100_000 + day % 100_000)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    month = date.astype("datetime64[M]").astype(np.int64)
    fiscal = month // 12 + 1970 + (month % 12 >= 9)
    order = np.argsort(fiscal, kind="stable")
    position = np.empty(len(day), dtype=np.int64)
    position[order] = np.arange(len(day)) - np.searchsorted(fiscal[order], fiscal[order])
    first, parts = (int(fiscal.min()), int(position.max()) // MAX_ROWS + 1) if len(day) else (2025, 1)
    years = range(first, int(fiscal.max()) + 1 if len(day) else first + 1)
    files = [f"2026-ICLI-00005_Detainers_FY{y % 100:02d}_FICTIONAL_Redacted.xlsx" for y in years]
    sheets = [f"FY{y}" + (f" ({p + 1})" if p else "") for y in years for p in range(parts)]
    return {
        "duplicate_likely": pa.array(counts[inverse] > 1, mask=redacted),
        "file_original": _take(files, fiscal - first),
        "sheet_original": _take(sheets, (fiscal - first) * parts + position // MAX_ROWS),
        "row_original": position % MAX_ROWS + 8,
        "fiscal_year": fiscal,
    }


def _release(dates: pd.Series, releases: tuple[tuple[str, str], ...]) -> pd.Series:
    """The release each prepare date comes from: the last whose first date it reaches."""
    starts = pd.to_datetime(pd.Series([first for _, first in releases]))
    index = np.searchsorted(starts.to_numpy(), pd.to_datetime(dates).to_numpy(), side="right") - 1
    return pd.Series(np.array([name for name, _ in releases], dtype=object)[np.maximum(index, 0)], index=dates.index)


def merged_duplicates(ids: pd.Series, dates: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The merged file's ``duplicate_likely`` and ``drop_row``, worked out as its publisher does: rows ordered by
    identifier and prepare date; a row is likely a duplicate when the same person's previous or next row is at most
    24 hours away, and dropped when the previous one is; rows without an identifier are neither."""
    order = pd.DataFrame({"id": ids, "when": pd.to_datetime(dates)}).sort_values(["id", "when"], kind="stable")
    hours = order.groupby("id", sort=False)["when"].diff().dt.total_seconds() / 3600
    prior = (hours <= 24).reindex(ids.index)
    following = order.groupby("id", sort=False)["when"].diff(-1).dt.total_seconds().abs() / 3600 <= 24
    following = following.reindex(ids.index)
    known = ids.notna()
    return (known & (prior | following)), (known & prior)


def _combined(ddp: pd.DataFrame, layout: str) -> pd.DataFrame:
    """DDP-processed records as the merged file or the DuckDB build has them (see :data:`LAYOUTS`)."""
    dates = ddp["detainer_prepare_date"]
    if layout == "ddp-merged":
        out = ddp.drop(columns=PROVENANCE).rename(columns={"detainer_prepare_date": "prepare_date"})
        out["source_file"] = _release(dates, MERGED_RELEASES)
        likely, drop = merged_duplicates(out["unique_identifier"], dates)
        out["duplicate_likely"], out["drop_row"] = likely, drop
        # What: the publisher writes its rows ordered by identifier and prepare date.
        order = out.assign(_when=pd.to_datetime(dates)).sort_values(["unique_identifier", "_when"], kind="stable")
        return out.loc[order.index, LAYOUTS[layout]].reset_index(drop=True)
    names = {
        "unique_id": "unique_identifier", "detainer_facility": "detention_facility",
        "detainer_facility_code": "detention_facility_code",
        "most_serious_conviction_msc_charge": "most_serious_conviction_charge",
        "detainer_criminality": "detainer_prepared_criminality", "detainer_threat_level": "detainer_prep_threat_level",
        "msc_charge": "most_serious_conviction_charge", "aggravated_felon_yes_no": "felon",
        "toa_case_category": "arrest_time_case_category", "toa_current_program": "arrest_time_current_program",
        "federal_register_notice_yes_no": "federal_interest_yes_no",
        "order_to_show_cause_served_yes_no": "order_show_cause_served_yes_no",
    }  # fmt: skip
    blank = pd.Series(pd.NA, index=ddp.index, dtype="string")
    out = pd.DataFrame({name: ddp.get(names.get(name, name), blank) for name in LAYOUTS[layout]})
    out["detention_facility"], out["detention_facility_code"] = blank, blank  # What: empty in the build.
    out["detainer_prepare_date"] = pd.to_datetime(dates)
    out["data_source"] = _release(dates, DUCKDB_RELEASES)
    return out


def make_export(rows: int, seed: int = 0, generation: int = 2, duplicate_share: float = 0.03) -> pd.DataFrame:
    """A raw ICE export of ``rows`` detainers with the names of release ``generation`` (1: 2025, 2: 2026)."""
    return make_records(rows, seed, {1: "ice-2025", 2: "ice-2026"}[generation], duplicate_share)


def write_export(
    frame: pd.DataFrame, path: str | Path, layout: str | None = None, *,
    title_block: bool = True, sheets: int = 1, r_style: bool = False, labelled: tuple[str, ...] = (),
) -> Path:  # fmt: skip
    """Write ``frame`` as .csv, .parquet, .feather/.arrow, .xlsx (ice-*: six title rows, header on row 7), or .dta
    or .sav (ddp only; the ``labelled`` columns stored as numbers whose value labels are the text)."""
    path, names = Path(path), list(frame.columns)
    layout = layout or next((k for k in ("ddp", "npr", "ice-2026", "ice-2025") if set(names) <= set(LAYOUTS[k])), "")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".parquet", ".feather", ".arrow"):  # What: a repeated name gets ".1", as pandas reads it.
        unique = [f"{c}.{names[:i].count(c)}" if c in names[:i] else c for i, c in enumerate(names)]
        out = frame.set_axis(unique, axis=1)
        for name, column in out.select_dtypes("datetime").items():
            if layout == "ddp" and (column.dropna() == column.dropna().dt.normalize()).all():
                out[name] = column.dt.date  # What: date32, as DDP writes a date-time column without times.
        if layout.startswith("ice") and not pd.api.types.is_datetime64_any_dtype(out[names[0]]):
            out[names[0]] = pd.to_datetime(out[names[0]], format="mixed")
        if path.suffix == ".parquet":
            out.to_parquet(path, index=False, compression="zstd" if layout == "ddp" else "snappy")
        else:  # What: Feather version 2 (Arrow's IPC file), as R's arrow::write_feather writes it.
            out.to_feather(path)
    elif path.suffix == ".xlsx":
        _write_xlsx(frame, path, title_block and layout.startswith("ice"), sheets)
    elif path.suffix in (".dta", ".sav"):
        if not layout.startswith("ddp"):
            raise ValueError(f"{layout or 'this'} layout has no valid Stata names; write a ddp layout")
        out = frame.set_axis([c[:32] for c in names], axis=1)  # What: python dates, bools and text as Stata takes them.
        dates = {c: "td" for c in out.columns if out[c].dtype == object}
        unit = "M8[s]" if path.suffix == ".dta" else "M8[ns]"  # What: pyreadstat writes other units as 1970.
        out = out.astype({c: "Int8" for c in out.select_dtypes("boolean").columns} | dict.fromkeys(dates, unit))
        text = list(out.select_dtypes("str").columns)
        out[text] = out[text].fillna("").astype(object)
        labels = {}
        for column in labelled:  # What: each distinct text a number from 1, its text the number's value label.
            codes, uniques = pd.factorize(out[column], sort=True)
            out[column], labels[column] = codes + 1, {n + 1: str(u) for n, u in enumerate(uniques)}
        if path.suffix == ".dta":
            out.to_stata(path, write_index=False, version=118, convert_dates=dates, value_labels=labels)
        else:
            import pyreadstat

            bools = list(out.select_dtypes("Int8").columns)
            out[bools] = out[bools].astype("float64")  # What: SPSS numbers are doubles; a missing flag is blank.
            pyreadstat.write_sav(out, str(path), variable_value_labels=labels)
    elif r_style:  # What: as R's write.csv: quoted text and row names, NA unquoted, TRUE/FALSE.
        out = frame.set_axis(np.arange(1, len(frame) + 1).astype(str), axis=0)
        whole = [c for c, v in out.select_dtypes("float").items() if (v.dropna() % 1 == 0).all()]
        text = out.astype(dict.fromkeys(whole, "Int64")).to_csv(
            None, index_label="", na_rep="NA", quoting=csv.QUOTE_NONNUMERIC
        )
        path.write_text(text.replace(',"NA"', ",NA").replace(",True", ",TRUE").replace(",False", ",FALSE"))
    else:
        frame.to_csv(path, index=False, lineterminator="\n")
    return path


def _write_xlsx(frame: pd.DataFrame, path: Path, title_block: bool, sheets: int) -> None:
    """Real Excel dates; rows split evenly over ``sheets`` sheets named "FY2025", "FY2025 (2)"... after the data."""
    from openpyxl import Workbook

    columns = []
    for column in (frame.iloc[:, i] for i in range(frame.shape[1])):
        values = column.dt.to_pydatetime() if pd.api.types.is_datetime64_any_dtype(column) else column.to_numpy(object)
        columns.append(np.where(column.isna().to_numpy(), None, values).tolist())
    dates = pd.to_datetime(frame.iloc[:, 0], errors="coerce", format="mixed").dropna()
    last = dates.max() if len(dates) else pd.Timestamp.now()
    label = f"FY{last.year + (last.month >= 10)}"
    book, rows = Workbook(write_only=True), zip(*columns, strict=True)
    bounds = np.linspace(0, len(frame), max(sheets, -(-len(frame) // MAX_ROWS)) + 1).astype(int)
    for part, size in enumerate(np.diff(bounds)):
        sheet = book.create_sheet(label if part == 0 else f"{label} ({part + 1})")
        for line in TITLE if title_block else []:
            sheet.append([line.format(label=label, last=last)] if line else [])
        sheet.append(list(frame.columns))
        for _ in range(size):
            sheet.append(next(rows))
    book.save(path)


if __name__ == "__main__":
    layout = sys.argv[3] if len(sys.argv) > 3 else "ice-2026"
    write_export(make_records(int(sys.argv[1]), layout=layout), Path(sys.argv[2]), layout)
