"""Raw material the emulated Architect builds agent groups from.

Each template is a kind of population (customers, employees, citizens, ...) with keywords
that select it from a prompt, and candidate variables and actions of every documented type.
Each metric family is a metric a prompt can ask about by name (churn, spend, retention, ...):
the words that ask for it, the population it belongs to when the prompt names none, and the
spec it gets in a group whose template has no candidate of that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GroupTemplate:
    """Raw material for one agent group."""

    id: str
    name: str
    description: str
    keywords: tuple[str, ...]
    agents: tuple[int, int]
    normal: tuple[tuple[str, float, float], ...]
    uniform: tuple[tuple[str, float, float], ...]
    initial: tuple[tuple[str, float], ...]
    binary: tuple[tuple[str, str], ...]
    discrete: tuple[tuple[str, str], ...]
    continuous: tuple[tuple[str, str], ...]


TEMPLATES: tuple[GroupTemplate, ...] = (
    GroupTemplate(
        "customers",
        "Customers",
        "Subscribers of the product",
        (
            "price",
            "pricing",
            "churn",
            "subscription",
            "customer",
            "customers",
            "saas",
            "discount",
            "plan",
            "subscribers",
            "retention",
            "loyalty",
        ),
        (500, 5000),
        (("satisfaction", 0.75, 0.15), ("brand_loyalty", 0.6, 0.2)),
        (("price_sensitivity", 0.3, 0.9), ("monthly_budget", 50.0, 500.0)),
        (("tenure_months", 12.0), ("support_tickets", 1.0)),
        (("churn", "Cancel subscription"), ("upgrade", "Move to a higher plan")),
        (("plan_choice", "Choose a pricing plan"),),
        (("spend", "Monthly spend on the product"),),
    ),
    GroupTemplate(
        "competitors",
        "Competitors",
        "Rival firms in the same market",
        ("competitor", "competitors", "market", "share", "rival", "rivals", "entrant", "launch"),
        (3, 20),
        (("market_share", 0.2, 0.05),),
        (("price_level", 0.8, 1.2),),
        (("innovation_rate", 0.1),),
        (("cut_price", "Lower list prices"),),
        (("product_launch", "Launch a competing product tier"),),
        (("marketing_spend", "Marketing budget per period"),),
    ),
    GroupTemplate(
        "employees",
        "Employees",
        "Staff of the organisation",
        (
            "employee",
            "employees",
            "staff",
            "remote",
            "hiring",
            "workforce",
            "salary",
            "team",
            "office",
            "workers",
            "wage",
            "wages",
        ),
        (100, 2000),
        (("engagement", 0.7, 0.12), ("productivity", 0.65, 0.1)),
        (("workload", 0.4, 1.0),),
        (("tenure_years", 3.0),),
        (("resign", "Leave the company"),),
        (("work_mode", "Choose office, hybrid or remote work"),),
        (("overtime_hours", "Overtime worked per period"),),
    ),
    GroupTemplate(
        "citizens",
        "Citizens",
        "Residents affected by the policy",
        (
            "policy",
            "vote",
            "voters",
            "election",
            "tax",
            "city",
            "government",
            "citizens",
            "residents",
            "regulation",
            "public",
        ),
        (1000, 10000),
        (("trust", 0.55, 0.2),),
        (("income", 20000.0, 120000.0),),
        (("awareness", 0.3),),
        (("support_policy", "Support the proposed policy"),),
        (("party_choice", "Choose a party to vote for"),),
        (("donation", "Donation to campaigns"),),
    ),
    GroupTemplate(
        "patients",
        "Patients",
        "People who may need care",
        (
            "epidemic",
            "health",
            "vaccine",
            "vaccination",
            "hospital",
            "disease",
            "patients",
            "outbreak",
            "flu",
            "clinic",
            "care",
        ),
        (1000, 10000),
        (("health", 0.8, 0.1),),
        (("risk_tolerance", 0.1, 0.9),),
        (("immunity", 0.05),),
        (("get_vaccinated", "Get vaccinated"),),
        (("care_choice", "Choose a care provider"),),
        (("out_of_pocket_spend", "Out-of-pocket health spending"),),
    ),
    GroupTemplate(
        "investors",
        "Investors",
        "Market participants holding the asset",
        (
            "invest",
            "investor",
            "investors",
            "stock",
            "fund",
            "crypto",
            "interest",
            "bank",
            "bond",
            "portfolio",
        ),
        (200, 3000),
        (("risk_appetite", 0.5, 0.2),),
        (("capital", 10000.0, 1000000.0),),
        (("confidence", 0.6),),
        (("sell", "Sell holdings"),),
        (("allocation", "Pick an asset allocation"),),
        (("invest_amount", "Amount invested per period"),),
    ),
    GroupTemplate(
        "commuters",
        "Commuters",
        "People travelling to work",
        (
            "traffic",
            "transit",
            "commute",
            "commuters",
            "car",
            "ev",
            "electric",
            "bus",
            "train",
            "fuel",
            "fare",
            "transport",
        ),
        (500, 8000),
        (("travel_satisfaction", 0.6, 0.15),),
        (("distance_km", 2.0, 40.0),),
        (("car_ownership", 0.7),),
        (("switch_mode", "Switch transport mode"),),
        (("route_choice", "Choose a route"),),
        (("travel_spend", "Travel spending per period"),),
    ),
    GroupTemplate(
        "households",
        "Households",
        "Consumers deciding how to spend",
        (
            "household",
            "households",
            "consumer",
            "consumers",
            "inflation",
            "spending",
            "retail",
            "energy",
            "housing",
            "rent",
            "shoppers",
        ),
        (500, 6000),
        (("confidence", 0.6, 0.15),),
        (("disposable_income", 500.0, 4000.0),),
        (("savings_rate", 0.08),),
        (("cut_back", "Cut discretionary spending"),),
        (("store_choice", "Choose where to shop"),),
        (("spend", "Spending per period"),),
    ),
)


@dataclass(frozen=True)
class MetricFamily:
    """A metric a prompt can name, and how the Architect adds it to a group."""

    metric: str
    words: tuple[str, ...]
    home: str
    spec: tuple[tuple[str, Any], ...]

    @property
    def kind(self) -> str:
        """The documented type of the metric's spec (``binary``, ``normal``, ...)."""
        return str(dict(self.spec)["type"])


def _binary(description: str) -> tuple[tuple[str, Any], ...]:
    return (("type", "binary"), ("description", description))


def _continuous(description: str) -> tuple[tuple[str, Any], ...]:
    return (("type", "continuous"), ("description", description))


FAMILIES: tuple[MetricFamily, ...] = (
    MetricFamily(
        "churn",
        (
            "churn",
            "churning",
            "churned",
            "attrition",
            "cancel",
            "cancelling",
            "canceling",
            "cancellation",
            "unsubscribe",
        ),
        "customers",
        _binary("Leave: cancel or quit"),
    ),
    MetricFamily(
        "retention",
        ("retention", "retain", "retained", "retaining", "renewal", "renew"),
        "customers",
        (("type", "normal"), ("mean", 0.85), ("std", 0.08)),
    ),
    MetricFamily(
        "satisfaction",
        ("satisfaction", "satisfied", "dissatisfaction", "happiness", "nps", "sentiment"),
        "customers",
        (("type", "normal"), ("mean", 0.75), ("std", 0.15)),
    ),
    MetricFamily(
        "price",
        ("price", "pricing", "repricing"),
        "customers",
        (("type", "initial_value"), ("value", 50.0)),
    ),
    MetricFamily(
        "spend",
        ("spend", "spending", "spent", "expenditure"),
        "customers",
        _continuous("Spend per period"),
    ),
    MetricFamily(
        "revenue",
        ("revenue", "sales", "arpu"),
        "customers",
        _continuous("Revenue per agent per period"),
    ),
    MetricFamily(
        "upgrade",
        ("upgrade", "upgrading", "upgraded", "upsell", "upselling", "upsold"),
        "customers",
        _binary("Move to a higher plan"),
    ),
    MetricFamily(
        "subscribe",
        ("subscribe", "subscription", "signup"),
        "customers",
        _binary("Start a subscription"),
    ),
    MetricFamily(
        "adoption",
        ("adoption", "adopt", "adopting", "adopter", "uptake"),
        "customers",
        _binary("Adopt the new product or feature"),
    ),
)
"""Metrics a prompt can ask about by name, in the order the Architect adds them."""
