"""What a prompt asks about: the metrics it names and the lever it pulls.

The emulated Architect reads a prompt with these functions to design the groups and the
metrics a user will look for, and writes the lever into the main group's description
("facing a 10% price increase"); the Simulator reads the lever back from that description
(so a config sent by the user is read the same way), and the Analyst reads the prompt to
write about the metric it names. Pure functions of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._templates import FAMILIES, GroupTemplate, MetricFamily

_TOKEN = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)|[a-z]+")

_COSTS = {
    "price": "price",
    "pricing": "price",
    "discount": "price",
    "fee": "fee",
    "fare": "fare",
    "cost": "cost",
    "tax": "tax",
    "rent": "rent",
    "toll": "toll",
    "inflation": "inflation",
}
"""Words for what a population pays, and the noun the Architect writes for each."""

_UP = frozenset(
    re.findall(
        r"\w+",
        """increase increased increasing raise raised raising rise rising rose hike hiked
        hiking higher double doubled doubling""",
    )
)
_DOWN = frozenset(
    re.findall(
        r"\w+",
        """cut cutting decrease decreased decreasing lower lowered lowering reduce reduced
        reducing reduction drop dropped dropping fall falling fell halve halved halving cheaper
        slash slashed discount""",
    )
)

DEFAULT_SHARE = 0.1
"""The size of a lever whose prompt gives no percentage ("a price increase")."""


def stem(word: str) -> str:
    """Fold a lower-case word's plural onto its singular (``prices`` -> ``price``)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("xes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words_of(text: str) -> set[str]:
    """The stemmed words of a text."""
    return {stem(token) for token in re.findall(r"[a-z]+", text.lower())}


def template_words(template: GroupTemplate) -> frozenset[str]:
    """The stemmed words that point to a template: its keywords and its families' words."""
    words = {*template.keywords}
    for family in FAMILIES:
        if family.home == template.id:
            words.update(family.words)
    return frozenset(stem(word) for word in words)


def asked_families(text: str) -> list[MetricFamily]:
    """The metric families a text names, in the order it first names them.

    A cost (price) comes last: in "How will a 10% price increase affect churn?" the
    question is churn, the price is what changes.
    """
    first: dict[str, int] = {}
    for index, match in enumerate(_TOKEN.finditer(text.lower())):
        if match.group(1) is None:
            first.setdefault(stem(match.group(0)), index)
    found = []
    for family in FAMILIES:
        places = [first[stem(word)] for word in family.words if stem(word) in first]
        if places:
            found.append((min(places), family))
    found.sort(key=lambda pair: (pair[1].metric in _COSTS.values(), pair[0]))
    return [family for _, family in found]


def asked_metrics(text: str) -> list[str]:
    """The names of the metrics a text asks about, in the order it first names them."""
    return [family.metric for family in asked_families(text)]


@dataclass(frozen=True)
class Lever:
    """A change in what a population pays: ``a 10% price increase``."""

    noun: str
    direction: int
    share: float | None

    @property
    def pressure(self) -> int:
        """How the population fares: -1 when what it pays goes up, +1 when it comes down."""
        return -self.direction

    @property
    def size(self) -> float:
        """The relative change, :data:`DEFAULT_SHARE` when the text gives none."""
        return DEFAULT_SHARE if self.share is None else self.share

    @property
    def strength(self) -> float:
        """How hard the lever moves the population: 0.5 for 10%, 1.0 for 20% (0.2 to 2)."""
        return min(2.0, max(0.2, 5 * self.size))

    def phrase(self) -> str:
        """The lever in words, as :func:`read_lever` reads it back."""
        change = "increase" if self.direction > 0 else "cut"
        if self.share is not None:
            return f"a {round(self.share * 100, 2):g}% {self.noun} {change}"
        article = "an" if self.noun[0] in "aeiou" else "a"
        return f"{article} {self.noun} {change}"


def read_lever(text: str) -> Lever | None:
    """Read the change in a cost that a text describes, if it describes one.

    The direction is the direction word nearest to a cost word ("increase prices", "a fare
    cut", "discounts"); the size is the percentage nearest to that cost word.

    Returns
    -------
    Lever or None
        ``None`` when the text names no cost, or no direction for it.
    """
    costs: list[tuple[int, str]] = []
    moves: list[tuple[int, int]] = []
    shares: list[tuple[int, float]] = []
    for index, match in enumerate(_TOKEN.finditer(text.lower())):
        if match.group(1) is not None:
            shares.append((index, float(match.group(1)) / 100))
            continue
        word = stem(match.group(0))
        if word in _COSTS:
            costs.append((index, _COSTS[word]))
        if word in _UP:
            moves.append((index, 1))
        elif word in _DOWN:
            moves.append((index, -1))
    if not costs or not moves:
        return None
    _, at, noun, direction = min(
        (abs(place - cost_at), cost_at, noun, direction)
        for cost_at, noun in costs
        for place, direction in moves
    )
    share = min(shares, key=lambda pair: abs(pair[0] - at))[1] if shares else None
    if share is not None and not 0 < share <= 5:
        share = None
    return Lever(noun, direction, share)
