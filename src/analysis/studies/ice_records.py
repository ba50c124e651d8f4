"""The ICE-records study: per period, an agency's own count, what ICE said in public, and ICE's own records."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure

from analysis.data.ingested import load_ingested
from analysis.data.load import Dataset
from analysis.data.schema import ICE_RECORDS, ICE_STATEMENT
from analysis.numbers import during
from analysis.params import check_text, choose
from analysis.studies.base import Study, cited_sources, no_sources
from analysis.studies.ice_charts import lift_reasons_chart, monthly_chart
from analysis.studies.tables import Column, ReaderTable, reader_table
from analysis.studies.text import capitalized, count

PARTIAL = " (partial)"
#: What the records can and cannot show, whatever the agency.
LIMITS = (
    "What ICE's records can show, and what they cannot. A record is a detainer ICE prepared, not proof that the "
    "agency received it or was asked to act on it. Declines are a lower bound: an agency seldom tells ICE that it "
    "declined, so most declined detainers carry another lift reason or none. The person identifiers are made for "
    "one release and do not carry across releases, so likely duplicates are found within a release only. ICE "
    "revises its releases, so counts from different releases of the same months can differ. Which facilities "
    "belong to the agency is decided by the mapping file used for the ingest."
)


@dataclass(frozen=True)
class IceRecordsStudy(Study):
    """One agency's count, ICE's public statement and ICE's records, period by period."""

    agency: str
    side_by_side: pd.DataFrame
    lift_reasons: pd.DataFrame
    monthly: pd.DataFrame
    cited: pd.DataFrame = field(default_factory=no_sources, compare=False, repr=False)
    #: Records of the export set aside for their problems when it was ingested (not counted anywhere here).
    set_aside: int = 0

    @property
    def headline(self) -> str:
        rows = self.side_by_side
        both = rows[rows["own"].notna() & rows["records"].notna()]
        row = (both if not both.empty else rows).iloc[-1]
        parts = [capitalized(during(str(row["period"])))]
        if pd.notna(row["own"]):
            parts.append(f"the {self.agency} counted {count(row['own'])} detainer requests")
        if pd.notna(row["statement"]):
            parts.append(f"ICE said in public it sent {count(row['statement'])}")
        partial = " (in the part of the period the release covers)" if row["partial"] else ""
        parts.append(
            f"ICE's records hold {count(row['records'])} detainers prepared{partial}, "
            f"{count(row['records_declined'])} of them recorded as declined"
        )
        return parts[0] + ", " + "; ".join(parts[1:]) + "."

    @property
    def title(self) -> str:
        return f"ICE's records beside the counts: {self.agency}"

    def limits(self) -> str:
        """What the records can and cannot show, in words (with the records set aside at the ingest, if any)."""
        if not self.set_aside:
            return LIMITS
        rows = count(self.set_aside) + (" row" if self.set_aside == 1 else " rows")
        return (
            f"{LIMITS} {rows} of the export had problems (a prepare date or a state that could not be read) and were "
            "set aside when it was ingested: they are counted nowhere on this page, and are listed with their "
            "problems in rejected_rows.csv beside the ingested counts."
        )

    def tables(self) -> dict[str, ReaderTable]:
        columns = {
            "period": Column("period"),
            "own": Column(f"{self.agency}'s own count (requests)", count),
            "statement": Column("ICE's public statement (requests)", count),
            "records": Column("ICE's records (detainers prepared)", count),
            "records_declined": Column("recorded as declined (a lower bound)", count),
            "note": Column("note"),
        }
        reasons = {
            "period": Column("period"),
            "lift_reason": Column("lift reason"),
            "records": Column("records", count),
        }
        return {
            "side_by_side": reader_table("ice-side-by-side", self.side_by_side, columns),
            "lift_reasons": reader_table("ice-lift-reasons", self.lift_reasons, reasons),
        }

    def draw(self) -> dict[str, Figure]:
        return {
            "06-ice-records-lift-reasons": lift_reasons_chart(
                self.lift_reasons, f"Lift reasons in ICE's records: {self.agency}"
            ),
            "06-ice-records-monthly": monthly_chart(self.monthly, f"Detainers prepared per month: {self.agency}"),
        }

    def to_json(self) -> list[dict[str, object]]:
        """One record per period: ``period``, ``own``, ``statement``, ``records``, ``records_declined``, ``partial``."""
        keys = ("period", "own", "statement", "records", "records_declined", "partial")
        return [{key: record[key] for key in keys} for record in self.side_by_side.to_dict("records")]


def _counts(requests: pd.DataFrame, agency: str, reporter: str, column: str = "requests") -> pd.Series:
    rows = requests[(requests["agency"] == agency) & (requests["reported_by"] == reporter)]
    return rows.set_index(rows["period"].str.removesuffix(PARTIAL))[column]


def study(dataset: Dataset, agency: str, records_dir: str) -> IceRecordsStudy:
    """Set the agency's own counts and ICE's statement (``dataset``) beside ICE's records (``records_dir``).

    Raises
    ------
    ParameterError
        When the agency is not in the records (listing the agencies that are).
    DataValidationError
        When the records folder is not as ``detainers ingest-ice`` writes it.
    """
    records = load_ingested(check_text("records_dir", records_dir))
    ingested = records.dataset.requests
    choose("agency", check_text("agency", agency), sorted(set(ingested["agency"])), "agencies in ICE's records")
    ours = ingested[(ingested["agency"] == agency) & (ingested["reported_by"] == ICE_RECORDS)]
    table = pd.DataFrame(
        {
            "own": _counts(dataset.requests, agency, agency),
            "statement": _counts(dataset.requests, agency, ICE_STATEMENT),
            "records": _counts(ingested, agency, ICE_RECORDS),
            "records_declined": _counts(ingested, agency, ICE_RECORDS, "declined"),
        }
    ).astype("Int64")
    partial = set(ours.loc[ours["period"].str.endswith(PARTIAL), "period"].str.removesuffix(PARTIAL))
    table = table.sort_index().rename_axis("period").reset_index()
    table["partial"] = table["period"].isin(partial)
    table["note"] = ["ICE's records cover part of this period only" if p else "" for p in table["partial"]]
    reasons = records.lift_reasons[records.lift_reasons["agency"] == agency].drop(columns="agency")
    monthly = records.monthly[records.monthly["agency"] == agency].drop(columns="agency")
    own = dataset.requests[dataset.requests["agency"] == agency]
    cited = pd.concat([cited_sources(dataset.sources, own), cited_sources(records.dataset.sources, ours)])
    cited = cited.drop_duplicates("source_id").sort_values("published", ascending=False, kind="stable")
    reasons, monthly, cited = (frame.reset_index(drop=True) for frame in (reasons, monthly, cited))
    return IceRecordsStudy(agency, table, reasons, monthly, cited=cited, set_aside=records.set_aside)
