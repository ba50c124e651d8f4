"""The denial-rates study: the share of requests one agency declined per period, with exact intervals."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from analysis.data.load import Dataset
from analysis.data.schema import ICE_RECORDS
from analysis.measures.rates import CONFIDENCE, level
from analysis.measures.selection import denial_rates
from analysis.studies.base import Study
from analysis.studies.charts import denial_chart
from analysis.studies.tables import Column, ReaderTable, reader_table
from analysis.studies.text import count, share

#: Keys of each record in the denial notebook's JSON output.
DENIAL_KEYS = ("period", "requests", "honored", "declined", "denial_rate", "ci_low", "ci_high")

#: Why an agency's rate is what it is, where the law sets it: (paraphrase, citations).
LEGAL_CONTEXT: dict[str, tuple[str, str]] = {
    "Boston Police Department": (
        "The 100% rate is set by law rather than chosen case by case. Boston's Trust Act, a city ordinance "
        "of 2014 amended in 2019, forbids the department to hold anyone only because of a civil immigration "
        "detainer, and in 2017 the Massachusetts Supreme Judicial Court ruled in Lunn v. Commonwealth that "
        "state officers have no authority to arrest or hold a person solely on such a detainer. A detainer "
        "asks the police to keep someone up to 48 hours past their release, or to tell ICE before releasing them.",
        "Boston Trust Act (City of Boston ordinance, 2014, amended 2019); Lunn v. Commonwealth, "
        "Massachusetts Supreme Judicial Court, 2017",
    ),
}


@dataclass(frozen=True)
class DenialStudy(Study):
    """The denial-rates notebook's question answered for one agency and reporter."""

    agency: str
    reported_by: str
    rates: pd.DataFrame
    confidence: float = CONFIDENCE

    @property
    def headline(self) -> str:
        known = self.rates[self.rates["denial_rate"].notna()]
        if known.empty:
            return f"No period of the {self.agency} has a reported outcome, so no denial rate can be given."
        last = known.iloc[-1]
        return (
            f"The {self.agency} declined {share(last['denial_rate'], 0)} of {count(last['requests'])} requests in "
            f"{last['period']} (exact {level(self.confidence)} interval {share(last['ci_low'])} to "
            f"{share(last['ci_high'])})."
        )

    @property
    def title(self) -> str:
        return f"Denial rates: {self.agency}"

    def summary(self) -> str:
        """What the rates show, in one or two sentences built from the data."""
        known = self.rates[self.rates["denial_rate"].notna()]
        missing = list(self.rates.loc[self.rates["denial_rate"].isna(), "period"])
        if known.empty:
            text = f"No period of the {self.agency} has a reported outcome, so no denial rate can be given."
        else:
            declined, received = int(known["declined"].sum()), int(known["requests"].sum())
            all_declined = bool((known["declined"] == known["requests"]).all())
            portion = "every one" if all_declined else share(declined / received)
            text = (
                f"In the {len(known)} periods with a reported outcome, the {self.agency} declined {portion} of "
                f"the {received:,} detainer requests it received ({declined:,} declined)."
            )
        if missing:
            text += f" The sources give no outcome for {', '.join(missing)}, so those periods have no rate."
        if self.reported_by == ICE_RECORDS:
            text += (
                " These counts come from ICE's own records, which miss many declines (agencies seldom tell "
                "ICE when they decline), so each rate is a lower bound."
            )
        return text

    def context(self) -> str:
        """Why the rate is what it is, with its citation, where the law sets it."""
        if self.agency not in LEGAL_CONTEXT:
            return f"The dataset records no law or policy that sets the rate of the {self.agency}."
        paraphrase, citation = LEGAL_CONTEXT[self.agency]
        return f"{paraphrase} (Sources: {citation}.)"

    def tables(self) -> dict[str, ReaderTable]:
        pct = level(self.confidence)
        columns = {
            "period": Column("period"),
            "requests": Column("requests received", count),
            "honored": Column("honored", count),
            "declined": Column("declined", count),
            "denial_rate": Column("share declined", share),
            "ci_low": Column(f"{pct} interval, low", share),
            "ci_high": Column(f"{pct} interval, high", share),
            "note": Column("why there is no rate"),
        }
        return {"rates": reader_table("denial-rates", self.rates, columns)}

    def draw(self) -> dict[str, Figure]:
        title = f"Share of detainer requests declined by the {self.agency}"
        return {"03-denial-rates": denial_chart(self.rates, title=title, confidence=self.confidence)}

    def to_json(self) -> list[dict[str, object]]:
        """One record per period (keys :data:`DENIAL_KEYS`; ``None`` where undefined)."""
        return [{key: record[key] for key in DENIAL_KEYS} for record in self.rates.to_dict("records")]


def study(dataset: Dataset, agency: str, reported_by: str) -> DenialStudy:
    """Check the parameters against the data and compute the denial rates.

    Raises
    ------
    ParameterError
        When the agency or reporter is not in the data (listing the choices).
    """
    return DenialStudy(agency, reported_by, denial_rates(dataset.requests, agency, reported_by))
