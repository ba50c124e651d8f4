"""The denial-rates study: the share of requests one agency declined per period (for notification requests: the share
it answered), with exact intervals."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure

from analysis.data.load import Dataset
from analysis.data.schema import ICE_RECORDS
from analysis.measures.rates import CONFIDENCE, level
from analysis.measures.selection import KIND_WORDS, denial_rates
from analysis.numbers import during, listed, rate_text
from analysis.studies.base import Study, cited_sources, no_sources
from analysis.studies.charts import denial_chart
from analysis.studies.tables import Column, ReaderTable, reader_table
from analysis.studies.text import capitalized, count, counted_by, period_words, share

#: Keys of each record in the denial notebook's JSON output.
DENIAL_KEYS = (
    "period",
    "request_kind",
    "requests",
    "honored",
    "declined",
    "denial_rate",
    "answered_rate",
    "ci_low",
    "ci_high",
)

#: Why an agency's rate is what it is, where the law sets it: (paraphrase, citations).
LEGAL_CONTEXT: dict[str, tuple[str, str]] = {
    "Boston Police Department": (
        "The 100% rate is set by law rather than chosen case by case. Boston's Trust Act, a city ordinance "
        "of 2014 amended in 2019, forbids the department to hold anyone only because of a civil immigration "
        "detainer, and in 2017 the Massachusetts Supreme Judicial Court ruled in Lunn v. Commonwealth that "
        "state officers have no authority to arrest or hold a person solely on such a detainer. A detainer "
        "asks the police to keep someone up to 48 hours past their release, or to tell ICE before releasing them. "
        "In 2025 the U.S. Department of Justice took the City of Boston to court over the Trust Act.",
        "Boston Trust Act (City of Boston ordinance, 2014, amended 2019); Lunn v. Commonwealth, "
        "Massachusetts Supreme Judicial Court, 2017; the U.S. Department of Justice's 2025 lawsuit against the "
        "City of Boston",
    ),
}


@dataclass(frozen=True)
class DenialStudy(Study):
    """The denial-rates notebook's question answered for one agency, reporter and kind of request.

    For detainer requests (and requests of every kind) the rate is the share declined; for notification
    requests, which ask only to be told of a release, it is the share the agency answered.
    """

    agency: str
    reported_by: str
    request_kind: str
    rates: pd.DataFrame
    confidence: float = CONFIDENCE
    cited: pd.DataFrame = field(default_factory=no_sources, compare=False, repr=False)

    @property
    def answered(self) -> bool:
        """Whether the rate is the share answered (notification requests), not the share declined."""
        return self.request_kind == "notification"

    @property
    def what(self) -> str:
        return "answered" if self.answered else "declined"

    @property
    def requests_word(self) -> str:
        return KIND_WORDS[self.request_kind]

    def given(self, row: pd.Series) -> str:
        """What the source gives for one period, in words: ``2,395 detainer requests, of which 1,007 honored``,
        ``2 declined and no count of detainer requests``, ``15 detainer requests and no count of how many were
        honored or declined``."""
        outcomes = " and ".join(f"{count(row[c])} {c}" for c in ("honored", "declined") if not pd.isna(row[c]))
        if pd.isna(row["requests"]):
            return f"{outcomes or 'no outcome'} and no count of {self.requests_word}"
        number = f"{count(row['requests'])} {self.requests_word}"
        return (
            f"{number}, of which {outcomes}"
            if outcomes
            else f"{number} and no count of how many were honored or declined"
        )

    @property
    def headline(self) -> str:
        known = self.rates[self.rates["rate"].notna()]
        if known.empty:
            given = "; ".join(f"{during(str(row['period']))}, {self.given(row)}" for _, row in self.rates.iterrows())
            whose = counted_by(self.agency, self.reported_by)
            return f"No share {self.what} can be given for the {self.agency}. By {whose}, {given}."
        last = known.iloc[-1]
        rate = float(last["rate"])
        # What: whole percents in between; near none or all, as many decimals as keep it from reading 0% or 100%.
        shown = share(rate, 0) if rate in (0.0, 1.0) or 0.01 <= rate <= 0.99 else rate_text(rate)
        if self.from_ice_records and not self.answered:
            return (
                f"ICE's records show the {self.agency} declined at least {shown} of the "
                f"{count(last['requests'])} {self.requests_word} ICE lodged with it "
                f"{during(str(last['period']))}: a lower bound, as agencies seldom tell ICE of a decline."
            )
        return (
            f"The {self.agency} {self.what} {shown} of {count(last['requests'])} "
            f"{self.requests_word} {during(str(last['period']))} (exact {level(self.confidence)} interval "
            f"{share(last['ci_low'])} to {share(last['ci_high'])})."
        )

    @property
    def title(self) -> str:
        counted = "" if self.reported_by == self.agency else f", as counted by {self.reported_by}"
        return f"{'Notification requests answered' if self.answered else 'Denial rates'}: {self.agency}{counted}"

    def summary(self) -> str:
        """What the rates show, in one or two sentences built from the data."""
        known = self.rates[self.rates["rate"].notna()]
        missing = list(self.rates.loc[self.rates["rate"].isna(), "period"])
        if known.empty:
            text = f"No period of the {self.agency} has both a count of requests and an outcome, so there is no rate."
        else:
            part, received = int(known[self.what_column].sum()), int(known["requests"].sum())
            everyone = bool((known[self.what_column] == known["requests"]).all())
            portion = "every one" if everyone else rate_text(part / received)
            text = (
                f"In the {len(known)} {'period' if len(known) == 1 else 'periods'} with a count and a reported "
                f"outcome, the {self.agency} {self.what} {portion} of the {received:,} {self.requests_word} "
                f"{'ICE lodged with it' if self.from_ice_records else 'it received'} ({part:,} {self.what})."
            )
        if missing:
            unrated = capitalized(listed([period_words(str(p)) for p in missing]))
            text += f" {unrated}: no rate, for the reason the table gives."
        if self.from_ice_records:
            text += (
                " These counts come from ICE's own records, which miss many declines (agencies seldom tell "
                "ICE when they decline), so each rate is a lower bound."
            )
        return text

    @property
    def from_ice_records(self) -> bool:
        """Whether the counts are ICE's own records of the detainers it lodged (declines there are a lower bound)."""
        return self.reported_by == ICE_RECORDS

    @property
    def what_column(self) -> str:
        return "honored" if self.answered else "declined"

    def context(self) -> str:
        """Why the rate is what it is, with its citation, where the law sets it."""
        if self.agency in LEGAL_CONTEXT and self.reported_by != self.agency:
            _, citation = LEGAL_CONTEXT[self.agency]
            return (
                f"For the {self.agency}'s own counts, the dataset records the law that sets its rate ({citation}). "
                f"The rate here is from the counts of {self.reported_by}, and the dataset does not say how that law "
                "bears on them."
            )
        if self.agency not in LEGAL_CONTEXT:
            return f"The dataset records no law or policy that sets the rate of the {self.agency}."
        paraphrase, citation = LEGAL_CONTEXT[self.agency]
        return f"{paraphrase} (Sources: {citation}.)"

    def tables(self) -> dict[str, ReaderTable]:
        pct = level(self.confidence)
        columns = {
            "period": Column("period"),
            "requests": Column(f"{self.requests_word} received", count),
            "honored": Column("answered" if self.answered else "honored", count),
            "declined": Column("declined", count),
            "rate": Column(f"share {self.what}", share),
            "ci_low": Column(f"{pct} interval, low", share),
            "ci_high": Column(f"{pct} interval, high", share),
            "note": Column("why there is no rate"),
        }
        return {"rates": reader_table("denial-rates", self.rates, columns)}

    def draw(self) -> dict[str, Figure]:
        title = f"Share of {self.requests_word} {self.what} by the {self.agency}"
        chart = denial_chart(self.rates, title=title, confidence=self.confidence, what=self.what)
        return {"03-denial-rates": chart}

    def chart_texts(self) -> dict[str, str]:
        values = []
        for row in self.rates.to_dict("records"):
            if pd.isna(row["rate"]):
                values.append(f"{period_words(str(row['period']))}: no rate ({row['note']})")
            else:
                interval = f"{share(row['ci_low'])} to {share(row['ci_high'])}"
                values.append(f"{period_words(str(row['period']))}: {share(row['rate'])} ({interval})")
        return {
            "03-denial-rates": (
                f"Chart of the share of {self.requests_word} {self.what} by the {self.agency} per period, with exact "
                f"{level(self.confidence)} intervals: " + "; ".join(values) + "."
            )
        }

    def to_json(self) -> list[dict[str, object]]:
        """One record per period (keys :data:`DENIAL_KEYS`; ``None`` where undefined): the share as
        ``denial_rate`` (declined) or ``answered_rate`` (notification requests), the other ``None``."""
        records = []
        for record in self.rates.to_dict("records"):
            rate = record["rate"]
            record["denial_rate"] = None if self.answered else rate
            record["answered_rate"] = rate if self.answered else None
            records.append({key: record[key] for key in DENIAL_KEYS})
        return records


def study(dataset: Dataset, agency: str, reported_by: str, request_kind: str | None = None) -> DenialStudy:
    """Check the parameters against the data and compute the rates.

    ``request_kind`` may be left out when the reporter gives counts of one kind only.

    Raises
    ------
    ParameterError
        When the agency, reporter or kind is not in the data (listing the choices), or a kind must be chosen.
    """
    rates = denial_rates(dataset.requests, agency, reported_by, request_kind)
    kind = str(rates["request_kind"].iloc[0])
    requests = dataset.requests
    rows = requests[
        (requests["agency"] == agency) & (requests["reported_by"] == reported_by) & (requests["request_kind"] == kind)
    ]
    return DenialStudy(agency, reported_by, kind, rates, cited=cited_sources(dataset.sources, rows))
