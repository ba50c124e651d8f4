"""The claims study: every published claim with its verdict, told for readers and for a terminal."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.data.load import Dataset
from analysis.errors import shown
from analysis.measures.verdicts import CONTRADICTED, NOT_CHECKABLE, SUPPORTED, Alternative, ClaimResult, check_claims
from analysis.numbers import during
from analysis.studies.base import Study, cited_sources, no_sources
from analysis.studies.tables import Column, ReaderTable, cell_id, reader_table, row_name

VERDICTS = (SUPPORTED, CONTRADICTED, NOT_CHECKABLE)
#: A claim whose verdict on its own source's count is the opposite of its verdict on another party's count.
DISPUTED = "disputed"
#: The rating of each verdict in the machine-readable reviews (schema.org ``Rating``, 1 to 5, as fact-checkers
#: rate a claim false to true), and of a :data:`DISPUTED` claim between them; a claim that cannot be checked is not
#: rated.
RATINGS = {SUPPORTED: 5, DISPUTED: 3, CONTRADICTED: 1}
#: Who reviews the claims, as the reviews name it.
REVIEWER = "detainer-analysis"
#: The claims table's name on the page: each review's ``@id`` is its claim's cell there (see ``cell_id``).
CLAIMS_TABLE = "claims"
#: The header of the claims table's column of claim ids.
CLAIM_HEADER = "claim"


def rated(result: ClaimResult) -> str:
    """The claim's verdict as its review rates it: :data:`DISPUTED` when another party's count gives the opposite
    verdict (supported against contradicted), else its verdict on its own source's count."""
    opposite = {SUPPORTED: CONTRADICTED, CONTRADICTED: SUPPORTED}.get(result.check.verdict)
    return DISPUTED if any(alt.check.verdict == opposite for alt in result.alternatives) else result.check.verdict


def counted(alt: Alternative) -> str:
    """``count of 15 requests`` or ``count of 0 declined`` (or that it gives none)."""
    if alt.count is None:
        return f"count, which gives no number {alt.counted}"
    return f"count of {alt.count:,} {alt.counted}"


def _alternatives_text(result: ClaimResult) -> str:
    parts = []
    for alt in result.alternatives:
        changed = " (changes the verdict)" if alt.check.verdict != result.check.verdict else ""
        parts.append(
            f"with {alt.reported_by}'s {counted(alt)} {during(alt.period)}: {alt.check.verdict}{changed}; "
            f"{alt.check.reason}"
        )
    return " | ".join(parts)


@dataclass(frozen=True)
class ClaimsStudy(Study):
    """Every claim of a dataset judged on its own reporter's counts, and with other reporters' counts."""

    title = "Published claims checked"

    results: tuple[ClaimResult, ...]
    sources: pd.DataFrame
    cited: pd.DataFrame = field(default_factory=no_sources, compare=False, repr=False)

    @property
    def headline(self) -> str:
        counts = {verdict: sum(r.check.verdict == verdict for r in self.results) for verdict in VERDICTS}
        listed = ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
        disputed = sum(rated(r) == DISPUTED for r in self.results)
        turned = (
            f" Another party's count gives the opposite verdict for {disputed} of them, which are {DISPUTED}."
            if disputed
            else ""
        )
        return f"Of {len(self.results)} published claims checked against the counts they rest on: {listed}.{turned}"

    def changed_verdicts(self) -> str:
        """Which verdicts another reporter's count would change, in sentences."""
        sentences = [
            f"{r.claim['claim_id']} is {r.check.verdict} on {r.claim['reported_by']}'s counts but "
            f"{alt.check.verdict} with {alt.reported_by}'s {counted(alt)} {during(alt.period)} "
            f"({alt.check.reason})."
            for r in self.results
            for alt in r.alternatives
            if alt.check.verdict != r.check.verdict
        ]
        return " ".join(sentences) or "No count by another party changes any verdict."

    def table(self) -> pd.DataFrame:
        """One row per claim: who said it, what it says, what the data give, the verdict, other reporters."""
        by_id = self.sources.set_index("source_id")
        cited = [by_id.loc[r.claim["source_id"]] for r in self.results]
        return pd.DataFrame(
            {
                "claim_id": [r.claim["claim_id"] for r in self.results],
                "source": [f"{row['publisher']!s}, {row['published']!s}" for row in cited],
                "claim": [r.claim["claim"] for r in self.results],
                "data": [r.check.reason for r in self.results],
                "verdict": [r.check.verdict for r in self.results],
                "other_reporters": [_alternatives_text(r) for r in self.results],
            },
            columns=["claim_id", "source", "claim", "data", "verdict", "other_reporters"],
        )

    def tables(self) -> dict[str, ReaderTable]:
        columns = {
            "claim_id": Column(CLAIM_HEADER),
            "source": Column("published by"),
            "claim": Column("what it says"),
            "data": Column("what the data give"),
            "verdict": Column("verdict"),
            "other_reporters": Column("with another party's count", lambda v: str(v).replace(" | ", "; ")),
        }
        return {"claims": reader_table(CLAIMS_TABLE, self.table(), columns, key=("claim_id",))}

    def structured_data(self) -> list[dict[str, object]]:
        """Each verdict as schema.org ``ClaimReview`` (JSON-LD), for fact-check aggregators: the claim, who made
        it, when and where (its source), and the verdict as a rating on :data:`RATINGS`' scale, with its reason
        (:data:`DISPUTED`, with every party's reason, where another party's count gives the opposite verdict; see
        :func:`rated`). Each review's ``@id`` is the claim's cell in the page's claims table
        (``#claims--ID--claim``)."""
        by_id = self.sources.set_index("source_id")
        reviews: list[dict[str, object]] = []
        for r in self.results:
            source = by_id.loc[r.claim["source_id"]]
            makers: list[dict[str, object]] = [{"@type": "Organization", "name": str(source["publisher"])}]
            if str(source["author"]).strip():
                makers.insert(0, {"@type": "Person", "name": str(source["author"])})
            appearance: dict[str, object] = {"@type": "CreativeWork", "headline": str(source["title"])}
            if str(source["url"]).startswith(("https://", "http://")):
                appearance["url"] = str(source["url"])
            claim: dict[str, object] = {"@type": "Claim", "author": makers, "appearance": appearance}
            if str(source["published"]).strip():
                claim["datePublished"] = str(source["published"])
            verdict = rated(r)
            explanation = r.check.reason + (f"; {_alternatives_text(r)}" if verdict == DISPUTED else "")
            rating: dict[str, object] = {
                "@type": "Rating",
                "alternateName": verdict,
                "ratingExplanation": explanation,
                "bestRating": max(RATINGS.values()),
                "worstRating": min(RATINGS.values()),
            }
            if verdict in RATINGS:
                rating["ratingValue"] = RATINGS[verdict]
            reviews.append(
                {
                    "@context": "https://schema.org",
                    "@type": "ClaimReview",
                    "@id": f"#{cell_id(CLAIMS_TABLE, row_name(str(r.claim['claim_id'])), CLAIM_HEADER)}",
                    "claimReviewed": str(r.claim["claim"]),
                    "author": {"@type": "Organization", "name": REVIEWER},
                    "itemReviewed": claim,
                    "reviewRating": rating,
                }
            )
        return reviews

    def rating_scale(self) -> str:
        """How the verdicts are rated in the page's machine-readable reviews, in one sentence."""
        return (
            f"Each verdict is also published in the page as a schema.org ClaimReview, for fact-check aggregators: "
            f"{SUPPORTED} is rated {RATINGS[SUPPORTED]} and {CONTRADICTED} {RATINGS[CONTRADICTED]} on a scale of "
            f"{min(RATINGS.values())} to {max(RATINGS.values())}; a claim {SUPPORTED} by its own source's count and "
            f"{CONTRADICTED} by another party's, or the reverse, is rated {RATINGS[DISPUTED]}, {DISPUTED}, with both "
            f"reasons; {NOT_CHECKABLE} carries no rating, only its reason."
        )

    def to_json(self) -> dict[str, object]:
        """Verdict and computed value of every claim, keyed by claim id."""
        return {
            r.claim["claim_id"]: {
                "verdict": r.check.verdict,
                "value": r.check.value,
                "reason": r.check.reason,
                "alternatives": [
                    {
                        "reported_by": a.reported_by,
                        "period": a.period,
                        "count": a.count,
                        "counted": a.counted,
                        "verdict": a.check.verdict,
                        "value": a.check.value,
                    }
                    for a in r.alternatives
                ],
            }
            for r in self.results
        }

    def text(self) -> str:
        """The claims for a terminal: one block per claim, then the tally.

        Every value from the data is written on its line with its line breaks and control characters as
        escapes, so a claim's text can never start a line of its own (a forged verdict, say).
        """
        blocks = []
        for row in self.table().itertuples(index=False):
            lines = [
                f"{shown(str(row.claim_id))}: {str(row.verdict).upper()}",
                f"  claim:  {shown(str(row.claim))} ({shown(str(row.source))})",
                f"  data:   {shown(str(row.data))}",
            ]
            lines += [f"  other:  {shown(part)}" for part in str(row.other_reporters).split(" | ") if part]
            blocks.append("\n".join(lines))
        return "\n\n".join([*blocks, self.headline])


def study(dataset: Dataset) -> ClaimsStudy:
    """Judge every claim of ``dataset``, in the order of its claims table."""
    requests, claims = dataset.requests, dataset.claims
    # What: who made each claim, and the counts of the agencies the claims are about.
    counts = requests[requests["agency"].isin(list(claims["agency"]))]
    cited = cited_sources(dataset.sources, claims, counts)
    return ClaimsStudy(tuple(check_claims(requests, claims)), dataset.sources, cited=cited)
