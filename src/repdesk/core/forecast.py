"""Forecast categories and the customer score, pure: standard library only (the fast shell
path reads the forecast through this).

Every open deal falls in one forecast category: the rep's own call on the deal when made
(`repdesk deal set DEAL --forecast commit`), otherwise the default from its probability (the
deal's own, else its stage's):

    commit      probability 70% or more   (the default Negotiation stage)
    best case   40% up to 69%             (Demo, Proposal)
    pipeline    10% up to 39%             (Prospect, Contacted, Qualified)
    omitted     under 10%                 (a stage the rep keeps at 0%, "on hold")

The lines sit at the default pipeline's own probabilities (domain page), so a new desk's stages
fall in the categories a sales team would put them in: signed-but-for-the-ink at
Negotiation, a real chance once the buyer has seen a demo or an offer, early otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

COMMIT, BEST_CASE, PIPELINE, OMITTED = "commit", "best_case", "pipeline", "omitted"
CATEGORIES = (COMMIT, BEST_CASE, PIPELINE, OMITTED)
LABELS = {COMMIT: "commit", BEST_CASE: "best case", PIPELINE: "pipeline", OMITTED: "omitted"}

# The lowest probability (percent) of each category's default, highest first.
THRESHOLDS = ((COMMIT, 70), (BEST_CASE, 40), (PIPELINE, 10))

# What the rep may type for a category (any case, spaces, hyphens or underscores); "auto"
# takes the rep's call back, leaving the default from the probability.
AUTO = "auto"
_TYPED = {
    "commit": COMMIT,
    "bestcase": BEST_CASE,
    "best": BEST_CASE,
    "pipeline": PIPELINE,
    "omitted": OMITTED,
    "omit": OMITTED,
    "auto": AUTO,
    "default": AUTO,
}
CATEGORY_FORMS = "commit, best case, pipeline, omitted, or auto (the default from the probability)"


def default_category(probability: int) -> str:
    """The category a deal of this win probability (percent) falls in unless the rep says."""
    for category, lowest in THRESHOLDS:
        if probability >= lowest:
            return category
    return OMITTED


def category(override: str | None, probability: int) -> str:
    """A deal's category: the rep's call when made (and known), else the default."""
    return override if override in CATEGORIES else default_category(probability)


def parse_category(text: str) -> str | None:
    """A typed category as stored, AUTO for "auto", None for anything else."""
    return _TYPED.get(_key(text))


def _key(text: str) -> str:
    """A category word as the tables key it: any case, spaces, hyphens or underscores."""
    return "".join(ch for ch in text.strip().lower() if ch not in " -_")


# The forecast categories of the CRMs' exports (Salesforce's ForecastCategoryName and its API
# values, where "Forecast" is Commit; HubSpot's labels and internal values), keyed as
# parse_category keys what the rep types. A closed deal's category is no call: CLOSED.
CLOSED = "closed"
_CRM_WORDS = {
    "commit": COMMIT,
    "forecast": COMMIT,
    "bestcase": BEST_CASE,
    "pipeline": PIPELINE,
    "omitted": OMITTED,
    "omit": OMITTED,
    "notforecasted": OMITTED,
    "closed": CLOSED,
    "closedwon": CLOSED,
    "closedlost": CLOSED,
}


def crm_category(text: str) -> str | None:
    """A CRM's forecast category as stored, CLOSED for a closed deal's, None for a word
    repdesk does not know (an org's own category)."""
    return _CRM_WORDS.get(_key(text))


def label(category_: str | None) -> str:
    """`best case`; "-" for no category (a closed deal)."""
    return LABELS.get(category_ or "", "-")


# ---------------------------------------------------------------- the customer score (NPS)

NPS_LOWEST, NPS_HIGHEST = 0, 10


def nps_group(score: int) -> str:
    """9-10 promoter, 7-8 passive, 0-6 detractor: the Net Promoter Score's three groups."""
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


@dataclass(frozen=True, slots=True)
class Nps:
    """The score of the customers who answered: the share of promoters minus the share of
    detractors, in points from -100 to 100 (None when nobody answered)."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def answered(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        if not self.answered:
            return None
        return 100 * (self.promoters - self.detractors) / self.answered

    @staticmethod
    def of(scores: dict[int, int]) -> Nps:
        """From how many answered each score: {9: 3, 6: 1}."""
        counts = {"promoter": 0, "passive": 0, "detractor": 0}
        for score, how_many in scores.items():
            counts[nps_group(int(score))] += int(how_many)
        return Nps(counts["promoter"], counts["passive"], counts["detractor"])

    def to_json(self) -> dict[str, float | int | None]:
        score = self.score
        return {
            "score": None if score is None else round(score, 1),
            "answered": self.answered,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
        }
