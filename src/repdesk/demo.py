"""The demo desk: a realistic, deterministic pipeline of about 18 months, relative to today.

Same seed, same `today` and `now`: the same rows, whatever the real clock says. Everything is
written with Core executemany in one write transaction (the ORM would take seconds for the
~4,000 activities); a build takes well under a second.

The story it tells: about 360 deals with ~150 companies across six European regions, 110 open
over the six open stages (fewer further on, some rotting, some going cold), the rest won (~45%)
or lost (~55%, with reasons); quotas of €60k a month, €180k a quarter, €720k a year; this month
visibly behind pace, this quarter about on pace.
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlmodel import col

from repdesk.core import forecast
from repdesk.core.dates import Period, period_containing
from repdesk.core.domain import OBJECTION_CATEGORIES
from repdesk.core.weeks import week_containing
from repdesk.storage import store
from repdesk.storage.models import (
    Activity,
    Captured,
    CloseDateChange,
    Commitment,
    Deal,
    FollowUp,
    ForecastChange,
    Objection,
    ProbabilityChange,
    Quota,
    Stage,
    StageChange,
)
from repdesk.storage.paths import DEMO_STAMP, Home

STAMP_FILE = DEMO_STAMP

MONTH_QUOTA_CENTS = 6_000_000  # €60k
QUARTER_QUOTA_CENTS = 18_000_000  # €180k
YEAR_QUOTA_CENTS = 72_000_000  # €720k
MONTHS = 18  # history, the current month included
OPEN_PER_STAGE = (26, 22, 19, 17, 14, 12)  # 110 open deals, fewer in later stages
MIN_VALUE_CENTS = 200_000  # €2k
MAX_VALUE_CENTS = 15_000_000  # €150k


@dataclass(frozen=True, slots=True)
class DemoSummary:
    deals: int
    open_deals: int
    won: int
    lost: int
    activities: int
    follow_ups: int
    objections: int


# ------------------------------------------------------------------ the stamp


def demo_is_current(path: Path, today: date) -> bool:
    """True when the demo desk at `path` exists and was built today (its dates are relative)."""
    stamp = path.parent / STAMP_FILE
    try:
        return path.exists() and stamp.read_text(encoding="utf-8").strip() == today.isoformat()
    except (OSError, UnicodeDecodeError):
        return False


def mark_built(path: Path, today: date) -> None:
    """Record beside the demo desk the day it was built for."""
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / STAMP_FILE).write_text(today.isoformat() + "\n", encoding="utf-8")


# ------------------------------------------------------------------ vocabulary

# country: (region, phone pattern, top-level domain, first names, last names, companies)
_COUNTRIES: dict[str, tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "SE": ("Nordics", "+46 8 ### ## ##", "se",
           ("Anna", "Erik", "Karin", "Johan", "Maria", "Lars", "Sofia", "Anders"),
           ("Lindqvist", "Andersson", "Berg", "Nyström", "Johansson", "Ekström"),
           ("Nordvik Logistik AB", "Ekström Byggvaror AB", "Malmö Kylfrakt AB", "Göta Energi AB",
            "Skåne Mejeri AB", "Lindqvist & Berg AB", "Vättern Verkstad AB",
            "Norrland Timber AB", "Åre Resorts AB")),
    "NO": ("Nordics", "+47 ## ## ## ##", "no",
           ("Ingrid", "Ole", "Kari", "Magnus", "Silje", "Henrik"),
           ("Haugen", "Johansen", "Solberg", "Bakke", "Lie"),
           ("Fjordline Transport AS", "Bergen Sjømat AS", "Solberg Elektro AS",
            "Tromsø Havn Logistikk AS", "Nordlys Helse AS", "Østfold Maskin AS",
            "Haugen Bygg AS")),
    "DK": ("Nordics", "+45 ## ## ## ##", "dk",
           ("Mette", "Søren", "Freja", "Mads", "Line", "Jens"),
           ("Jensen", "Nielsen", "Sørensen", "Christensen", "Møller"),
           ("Ærø Fiskeri ApS", "Smørrebrød & Co ApS", "Jensen Køleteknik A/S",
            "Aarhus Freight A/S", "Møller Medico A/S", "Fyn Energi A/S", "Nørrebro Design ApS")),
    "FI": ("Nordics", "+358 40 ### ####", "fi",
           ("Aino", "Matti", "Satu", "Juha", "Elina", "Mikko"),
           ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Laine"),
           ("Mäkinen Kuljetus Oy", "Suomen Lääkejakelu Oy", "Laine Metsä Oy",
            "Oulu Robotics Oy", "Kalevala Foods Oy", "Tampere Tekniikka Oy")),
    "IS": ("Nordics", "+354 ### ####", "is",
           ("Guðrún", "Jón", "Sigríður", "Einar"),
           ("Jónsdóttir", "Sigurðsson", "Einarsson"),
           ("Reykjavík Sjávarafurðir ehf.",)),
    "DE": ("DACH", "+49 30 #######", "de",
           ("Jonas", "Katrin", "Lukas", "Sabine", "Felix", "Julia", "Stefan", "Anja"),
           ("Müller", "Schmidt", "Weber", "Becker", "Hoffmann", "Wagner", "Schäfer"),
           ("Müller & Söhne GmbH", "Groß Brauerei GmbH", "Rheintal Spedition GmbH",
            "Schwarzwald Holzbau GmbH", "Weber Medizintechnik GmbH", "Hoffmann Kältetechnik KG",
            "Bäckerei Schäfer GmbH", "Nordsee Fisch AG", "Becker Werkzeuge GmbH",
            "Stadtwerke Lüneburg GmbH", "Elbe Logistik GmbH", "Hanse Versicherungs AG",
            "Wagner Pharma GmbH", "Bayerische Landtechnik AG", "Köln Events GmbH",
            "Dresden Optik GmbH", "Schmidt & Partner Steuerberatung")),
    "AT": ("DACH", "+43 1 ### ####", "at",
           ("Lukas", "Theresa", "Florian", "Katharina"),
           ("Huber", "Gruber", "Bauer", "Pichler"),
           ("Gruber Transporte GmbH", "Tiroler Bergbahnen AG", "Wiener Kaffeerösterei GmbH",
            "Steiermark Stahl AG", "Huber Gastro GmbH")),
    "CH": ("DACH", "+41 44 ### ## ##", "ch",
           ("Reto", "Nicole", "Urs", "Claudia"),
           ("Keller", "Meier", "Brunner", "Frei"),
           ("Zürcher Privatklinik AG", "Keller Uhren SA", "Alpenmilch Genossenschaft",
            "Basel Chemie Logistik AG", "Meier Sanitär AG")),
    "PL": ("DACH", "+48 42 ### ## ##", "pl",
           ("Piotr", "Agnieszka", "Tomasz", "Katarzyna"),
           ("Nowak", "Kowalski", "Wiśniewska", "Zieliński"),
           ("Łódź Foods", "Wiśniewski Transport Sp. z o.o.")),
    "CZ": ("DACH", "+420 2## ### ###", "cz",
           ("Jan", "Petra", "Tomáš", "Lucie"),
           ("Novák", "Dvořák", "Černá", "Svoboda"),
           ("Čapek Strojírny s.r.o.",)),
    "NL": ("Benelux", "+31 20 ### ####", "nl",
           ("Daan", "Sanne", "Joost", "Lotte", "Bram", "Femke"),
           ("de Vries", "Jansen", "van Dijk", "Bakker", "Visser"),
           ("Van Dijk Transport B.V.", "De Vries Bloemen B.V.", "Rotterdam Haven Services B.V.",
            "Bakker Bouw B.V.", "Utrecht Zorggroep", "Visser Kaas B.V.",
            "Delftse Techniek B.V.", "Eindhoven Photonics B.V.", "Groningen Energie N.V.",
            "Jansen Installatie B.V.", "Amstel Hotels B.V.")),
    "BE": ("Benelux", "+32 2 ### ## ##", "be",
           ("Lucas", "Elise", "Wout", "Marie", "Thomas"),
           ("Peeters", "Janssens", "Dubois", "Maes", "Claes"),
           ("Peeters Logistiek NV", "Brasserie Dubois SA", "Antwerpse Diamant Groep",
            "Gentse Bouwwerken NV", "Liège Acier SA", "Janssens Apotheken NV",
            "Brugse Chocolade NV")),
    "LU": ("Benelux", "+352 ## ## ##", "lu",
           ("Luc", "Anne", "Marc"),
           ("Schmit", "Weber", "Hoffmann"),
           ("Luxembourg Fund Services S.A.", "Moselle Vins S.A.")),
    "GB": ("UK", "+44 20 7### ####", "co.uk",
           ("Oliver", "Charlotte", "James", "Emily", "Tom", "Sophie", "Rajesh", "Aisha"),
           ("Smith", "Taylor", "Patel", "Hughes", "Clarke", "Walker"),
           ("Hughes & Clarke Ltd", "Thames Valley Couriers Ltd", "Pennine Foods plc",
            "Bristol Aerospace Components Ltd", "Walker Facilities Management",
            "Mersey Freight Ltd", "Highland Distillers Ltd", "Patel Pharmacy Group",
            "Cotswold Builders Merchants", "Northern Rail Services Ltd",
            "Kent Fresh Produce Ltd", "Oxford Learning Trust", "Brighton Marina Hotels",
            "Yorkshire Water Engineering", "Taylor & Sons Printing", "Leeds Legal LLP",
            "Glasgow Bus Company", "Cardiff Bay Studios", "Sheffield Steel Fabrications",
            "Manchester Medical Supplies", "Camden Coffee Roasters")),
    "IE": ("UK", "+353 1 ### ####", "ie",
           ("Niamh", "Ciarán", "Aoife", "Seán"),
           ("O'Brien", "Murphy", "Byrne", "Kelly"),
           ("Murphy Agri Ltd", "Dublin Port Logistics", "Cork Biotech DAC",
            "Galway Bay Seafoods")),
    "FR": ("France", "+33 1 ## ## ## ##", "fr",
           ("Camille", "Hugo", "Inès", "Julien", "Léa", "Mathieu", "Chloé"),
           ("Martin", "Dubois", "Lefèvre", "Moreau", "Girard", "Rousseau", "Fontaine"),
           ("Société Générale d'Aviation", "Transports Lefèvre SAS", "Boulangeries Moreau",
            "Château Girard", "Fontaine Énergie SA", "Clinique Saint-Éloi",
            "Rousseau Électricité", "Lyon Mécanique SARL", "Bordeaux Vins & Spiritueux",
            "Marseille Fret Maritime", "Groupe Hôtelier Côte d'Azur", "Laboratoires Dupré",
            "Nantes Agroalimentaire", "Lille Textile SA", "Toulouse Spatial Services",
            "Strasbourg Assurances", "Crèmerie Normande", "Atelier Bérenger",
            "Rennes Numérique SAS", "Grenoble Robotique", "Pâtisserie Lenôtre-Martin",
            "Montpellier Santé")),
    "ES": ("Iberia", "+34 91 ### ## ##", "es",
           ("Lucía", "Javier", "Marta", "Álvaro", "Carmen", "Pablo"),
           ("García", "Fernández", "López", "Martínez", "Sánchez", "Ruiz"),
           ("Transportes García S.L.", "Frutas Levante S.A.", "Clínica Fernández",
            "Construcciones López S.A.", "Bodegas Rioja Alta Sur", "Sevilla Logística S.L.",
            "Hoteles Mediterráneo", "Madrid Seguros S.A.", "Barcelona Tèxtil S.L.",
            "Energía Solar Andaluza", "Aceites Sánchez", "Bilbao Metalúrgica",
            "Valencia Cerámica S.A.", "Farmacias Ruiz")),
    "PT": ("Iberia", "+351 21 ### ####", "pt",
           ("João", "Inês", "Tiago", "Beatriz", "Rui"),
           ("Silva", "Santos", "Ferreira", "Costa", "Oliveira"),
           ("Açores Energia", "Transportes Ferreira Lda", "Porto Vinhos Lda",
            "Lisboa Turismo S.A.", "Costa Conservas Lda", "Coimbra Saúde", "Braga Calçado Lda",
            "Algarve Resorts S.A.", "Oliveira Cortiça Lda")),
}  # fmt: skip

_LEGAL_FORMS = frozenset(
    ("ab", "as", "a/s", "aps", "oy", "ehf.", "gmbh", "kg", "ag", "sa", "s.a.", "genossenschaft",
     "sp.", "z", "o.o.", "s.r.o.", "b.v.", "n.v.", "nv", "ltd", "plc", "llp", "dac", "sas", "sarl",
     "s.l.", "lda")
)  # fmt: skip
_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "o", "å": "a", "ł": "l",
     "ð": "d", "þ": "th"}
)  # fmt: skip

PRODUCTS = ("RouteIQ", "DeskFlow", "Insight", "Guard")
_PRODUCT_WEIGHTS = (30, 35, 20, 15)
SOURCES = ("inbound", "referral", "outbound", "event", "partner")
_SOURCE_WEIGHTS = {
    "won": (30, 25, 20, 10, 15),
    "lost": (25, 8, 40, 15, 12),
    "open": (28, 14, 32, 13, 13),
}
LOST_REASONS = ("price", "chose competitor", "no budget", "timing", "not a fit", "went silent")
_LOST_WEIGHTS = (22, 22, 15, 15, 12, 14)
_REASON_CATEGORY = {
    "price": "price",
    "chose competitor": "competitor",
    "no budget": "budget",
    "timing": "timing",
    "not a fit": "need",
}
CALL_OUTCOMES = ("connected", "left voicemail", "no answer", "meeting booked", "not interested")
_COMPETITORS = ("Routely", "FleetOne", "Zendex", "Servio", "Lookr", "Datamatic", "SecureStack")
_CATEGORY_WEIGHTS = {
    "price": 30, "budget": 18, "timing": 16, "competitor": 16, "authority": 12, "need": 10,
    "confusion": 8, "other": 6,
}  # fmt: skip

# What was done, by the stage the deal was in at the time (0-5: the open stages in order).
_WORK: dict[object, dict[str, tuple[str, ...]]] = {
    0: {
        "call": ("Cold call: asked who owns {topic} today", "Intro call, {first} asked for info",
                 "Reached {first} after two tries; interested in a short demo"),
        "email": ("Intro email with the {product} one-pager", "Sent a short intro and a case study",
                  "LinkedIn message to {first}, then an email"),
        "meeting": ("Met {first} at a trade fair stand",),
        "note": ("Found them via {source}; {topic} still in spreadsheets",
                 "Target account: growing, new ops lead"),
    },
    1: {
        "call": ("Discovery call with {first}: {topic} done by hand today",
                 "Call with {first}: pains are reporting and double entry"),
        "email": ("Sent discovery recap and questions",
                  "Shared two customer stories from the sector"),
        "meeting": ("Intro video call with {first}", "Discovery meeting at {company}"),
        "note": ("{first} forwards to their IT lead", "They tried a competitor two years ago"),
    },
    2: {
        "call": ("Confirmed budget range and timeline with {first}",
                 "Mapped the buying group: {first}, IT and finance"),
        "email": ("Sent the qualification summary", "Sent security questionnaire answers"),
        "meeting": ("Needs workshop with the ops team",),
        "note": ("Budget approved in principle; decision this quarter",
                 "Champion: {first}; blocker may be IT"),
    },
    3: {
        "call": ("Debrief after the demo with {first}", "Prep call for the demo agenda"),
        "email": ("Sent demo recording and notes", "Sent the integration overview for IT"),
        "meeting": ("Demo of {product} for {first} and the team",
                    "Second demo for IT: SSO and integrations", "On-site demo at {company}"),
        "note": ("Demo went well; ops lead very keen", "They asked for a sandbox account"),
    },
    4: {
        "call": ("Walked {first} through the proposal", "Chased feedback on the proposal"),
        "email": ("Sent proposal v1", "Revised quote with a three-year option",
                  "Sent references as asked"),
        "meeting": ("Proposal review with {first} and finance",),
        "note": ("Proposal with finance; answer expected next week",),
    },
    5: {
        "call": ("Negotiating payment terms with {first}", "Call with procurement about the MSA"),
        "email": ("Sent contract redlines back", "Sent final pricing and order form"),
        "meeting": ("Negotiation meeting with procurement",),
        "note": ("Legal review ongoing on their side", "Verbal yes from {first}; paperwork next"),
    },
    "won": {
        "call": ("Check-in with {first}: rollout on track, asked for a referral",
                 "Kickoff call with the project team"),
        "email": ("Sent onboarding plan", "Thanks and intro to customer success"),
        "meeting": ("Kickoff meeting at {company}",),
        "note": ("Signed. Rollout starts next month",),
    },
}  # fmt: skip
_TOPICS = {
    "RouteIQ": ("route planning", "fleet tracking", "dispatch"),
    "DeskFlow": ("the service desk", "IT tickets", "customer support"),
    "Insight": ("reporting", "sales dashboards", "board reporting"),
    "Guard": ("access control", "user audits", "GDPR requests"),
}

_FOLLOW_UP_NOTES: dict[object, tuple[str, ...]] = {
    0: ("Try {first} again", "Send intro email", "Connect on LinkedIn"),
    1: ("Book discovery call", "Send case study", "Find the decision maker"),
    2: ("Book demo with the ops team", "Confirm budget", "Send security answers"),
    3: ("Send demo recap and pricing", "Set up sandbox", "Follow up on the demo"),
    4: ("Chase proposal feedback", "Send revised quote", "Call finance about the quote"),
    5: ("Chase the signature", "Call procurement about terms", "Send the order form"),
    "won": ("Check-in: adoption and referral ask",),
}
_DONE_OUTCOMES = ("connected", "left voicemail", "no answer", "meeting booked", "email", "meeting")

# Objections: per category, what prospects said, with answers that fit it: good answers (used
# on any deal) and answers that only ever appear on deals later won (the playbook's best).
_OBJECTIONS: dict[str, tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]] = {
    "price": (
        ("Too expensive compared to what we pay now",
         ("Showed the payback in months from hours saved",
          "Compared total cost: their setup fee and support tier"),
         ("Tied the price to a guaranteed saving, with a refund if not met",)),
        ("We need 20% off to sign this quarter",
         ("Offered a two-year term at 8% off instead of a one-off discount",
          "Reduced scope to the core module for year one"),
         ("Traded the discount for a case study and a reference call",)),
        ("{competitor} quoted us less",
         ("Compared total cost: their setup fee and support tier",
          "Listed what the {competitor} quote leaves out"),
         ("Let our reference customer talk numbers with {first}",)),
        ("Per-seat pricing adds up for us",
         ("Offered a site licence above 100 seats", "Showed the cheaper light-user seats"),
         ("Priced only active users, billed quarterly",)),
    ),
    "budget": (
        ("No budget until next fiscal year",
         ("Split the licence over two budget years", "Moved the start date to their budget year"),
         ("Signed now, first invoice in their new budget year",)),
        ("Budget was cut this quarter",
         ("Started with a paid pilot from the ops budget", "Proposed a smaller first phase"),
         ("Found budget in the cost line it saves, with their CFO",)),
        ("All spend is frozen until the audit",
         ("Agreed to revisit the week after the audit", "Sent a memo for the spend committee"),
         ()),
    ),
    "timing": (
        ("Not now, we are mid-migration",
         ("Scheduled kickoff after their go-live", "Showed a rollout that fits after go-live"),
         ("Offered a free onboarding slot that expires at quarter end",)),
        ("Call us after the summer",
         ("Booked a date and sent a short plan for September",
          "Sent a summer-proof rollout plan"),
         ()),
        ("Too much going on before year end",
         ("Proposed a phased start with one team", "Offered to do the setup work for them"),
         ("Did the setup for them; the team only joins training in January",)),
    ),
    "competitor": (
        ("We already use {competitor}",
         ("Ran a side-by-side on their own data",
          "Shared a switch story from a former {competitor} customer"),
         ("Migration included at no cost, with a 90-day exit clause",)),
        ("IT prefers the big suite vendor",
         ("Showed the integration with their suite", "Sent the IT architecture overview"),
         ("Ran the IT review with our solutions engineer; IT signed off",)),
        ("{competitor} offers the same for less",
         ("Compared features line by line", "Showed what support and updates are included"),
         ()),
    ),
    "authority": (
        ("I need the CFO to approve",
         ("Prepared a one-page business case for the CFO", "Offered a short call with the CFO"),
         ("Ran the CFO demo with the payback model in their numbers",)),
        ("Procurement has to run a tender",
         ("Sent our tender pack and references", "Asked to help shape the requirements"),
         ()),
        ("The group IT board decides this",
         ("Joined their IT board call with {first}", "Sent the security and hosting summary"),
         ("Coached {first} for the board; answered questions live",)),
    ),
    "need": (
        ("Spreadsheets work fine for us",
         ("Quantified the hours their planners lose weekly", "Ran a two-week free trial"),
         ("A pilot on one team showed 11% fewer hours of admin",)),
        ("We don't see the problem",
         ("Shared a benchmark from a peer in their sector", "Asked them to time one week's work"),
         ()),
        ("Our current tool is good enough",
         ("Showed what breaks at their next growth step", "Compared their tool's roadmap"),
         ()),
    ),
    "confusion": (
        ("Not sure what's in which tier",
         ("Sent a one-page tier comparison",),
         ("Mapped their use cases to one tier, no add-ons",)),
        ("How does per-seat pricing work?",
         ("Walked through a worked example on a call", "Sent a price sheet with their numbers"),
         ()),
        ("What does the rollout involve for us?",
         ("Sent the rollout plan with their milestones", "Introduced the onboarding lead"),
         ()),
    ),
    "other": (
        ("Worried about data residency",
         ("Confirmed EU hosting and sent the DPA",),
         ("Sent the ISO 27001 certificate and the pen-test summary",)),
        ("Need SSO before we can sign",
         ("Showed SSO on the enterprise tier", "Offered SSO on their tier for year one"),
         ()),
        ("Our works council must approve new tools",
         ("Presented to the works council with their HR lead",
          "Sent the works council FAQ"),
         ()),
    ),
}  # fmt: skip


# ------------------------------------------------------------------ building blocks


@dataclass(slots=True)
class _Company:
    name: str
    country: str
    region: str
    customer_since: date | None  # a customer before the demo's history began
    contacts: list[tuple[str, str, str]]  # (name, email, phone)


@dataclass(slots=True)
class _Deal:
    seq: int
    status: str  # open | won | lost
    company: _Company
    product: str
    quantity: int
    value_cents: int
    first_contact: date
    closed_on: date | None
    open_index: int  # the open stage it is in (open) or was last in (closed)
    lost_reason: str = ""
    segment: str = "new"
    source: str = ""
    currency: str = "EUR"
    contact: tuple[str, str, str] = ("", "", "")
    title: str = ""
    expected_close: date | None = None
    entered_at: datetime | None = None  # open deals: when it entered its current stage
    quiet_days: int = 0  # open deals gone quiet: no activity for this many days
    index_path: list[int] = field(default_factory=list)  # open-stage indexes passed through
    path: list[int] = field(default_factory=list)  # stage ids, in order
    moments: list[datetime] = field(default_factory=list)  # when each was entered
    id: int = 0


def _ascii(text: str) -> str:
    lowered = text.lower().translate(_TRANSLIT)
    return unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode()


def _domain(company: str, tld: str) -> str:
    words = [w for w in company.replace("&", " ").split() if w.lower() not in _LEGAL_FORMS]
    slug = "-".join("".join(ch for ch in _ascii(w) if ch.isalnum()) for w in words[:2])
    return f"{slug.strip('-') or 'mail'}.{tld}"


def _phone(pattern: str, rng: random.Random) -> str:
    return "".join(str(rng.randint(0, 9)) if ch == "#" else ch for ch in pattern)


def _companies(rng: random.Random, history_start: date) -> list[_Company]:
    companies = []
    for country, (region, phone, tld, firsts, lasts, names) in _COUNTRIES.items():
        for name in names:
            domain = _domain(name, tld)
            contacts = []
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                first, last = rng.choice(firsts), rng.choice(lasts)
                local = f"{_ascii(first)}.{_ascii(last)}".replace(" ", "").replace("'", "")
                contacts.append((f"{first} {last}", f"{local}@{domain}", _phone(phone, rng)))
            since = history_start - timedelta(days=rng.randint(60, 900))
            companies.append(
                _Company(name, country, region, since if rng.random() < 0.15 else None, contacts)
            )
    return companies


def _offer(rng: random.Random, product: str) -> tuple[int, int]:
    """A quantity and a value in cents, skewed: many small deals, a few large ones."""
    if product == "RouteIQ":  # per vehicle and year
        qty = rng.choices(
            (12, 18, 25, 30, 40, 60, 80, 120, 200, 350, 600),
            weights=(10, 11, 12, 10, 9, 7, 5, 3, 2, 1, 0.5),
        )[0]
        euros = qty * 180 + rng.choice((0, 0, 1500, 3000))
    elif product == "DeskFlow":  # per seat and year
        qty = rng.choices(
            (6, 10, 15, 20, 25, 40, 50, 75, 100, 150, 250, 400),
            weights=(6, 12, 12, 11, 10, 8, 6, 4, 3, 2, 1, 0.5),
        )[0]
        euros = qty * 360
    elif product == "Insight":  # tiers
        qty = rng.choices((1, 2, 3, 4, 5), weights=(9, 8, 5, 2, 0.6))[0]
        euros = (2400, 6000, 14400, 36000, 96000)[qty - 1] + rng.choice((0, 0, 1200, 2400))
    else:  # Guard, per user and year
        qty = rng.choices(
            (50, 100, 150, 250, 400, 600, 1000, 2000, 3000),
            weights=(10, 12, 10, 8, 6, 4, 2, 1, 0.5),
        )[0]
        euros = qty * 48
    euros = round(euros * rng.choice((1.0, 1.0, 0.95, 0.9, 0.85)) / 50) * 50  # discounts
    return qty, max(MIN_VALUE_CENTS, min(MAX_VALUE_CENTS, euros * 100))


def _title(rng: random.Random, deal: _Deal) -> str:
    qty, existing, year = deal.quantity, deal.segment == "existing", deal.first_contact.year
    options: tuple[str, ...]
    if deal.product == "RouteIQ":
        options = (
            (f"{qty} vehicles add-on", f"RouteIQ renewal {year}", "Driver app rollout")
            if existing
            else (
                f"Fleet tracking rollout ({qty} vehicles)",
                "Fleet tracking rollout",
                "Route planning pilot" if qty <= 30 else f"Cold-chain monitoring, {qty} trucks",
                "Dispatch planning",
            )
        )
    elif deal.product == "DeskFlow":
        options = (
            (f"{qty} seats renewal", f"{qty} seats expansion", "Customer portal add-on")
            if existing
            else (
                f"Service desk, {qty} seats",
                f"Helpdesk migration ({qty} agents)",
                f"{qty} seats DeskFlow",
            )
        )
    elif deal.product == "Insight":
        tier = ("Starter", "Team", "Business", "Enterprise", "Group")[qty - 1]
        options = (
            (f"Insight upgrade to {tier}", "Forecasting module", f"Insight renewal {year}")
            if existing
            else (
                f"Analytics {tier.lower()}",
                "Sales dashboards",
                "Board reporting pack",
                "Data warehouse connector",
            )
        )
    else:
        options = (
            (f"Guard: {qty} more users", "Audit log add-on", f"Guard renewal {year}")
            if existing
            else (
                f"Access control rollout ({qty} users)",
                "SSO and audit pack",
                "GDPR compliance package",
                "Security review and Guard pilot",
            )
        )
    return rng.choice(options)


def _instant(day: date, rng: random.Random, now: datetime) -> datetime:
    """A business-hours instant on `day` (UTC), never after `now`."""
    moment = datetime.combine(
        day, time(rng.randint(7, 16), rng.choice((0, 5, 10, 15, 20, 30, 40, 45, 50))), UTC
    )
    if moment > now:
        moment = now - timedelta(minutes=rng.randint(5, 90))
    return moment


def _between(start: datetime, end: datetime, rng: random.Random) -> datetime:
    """A business-hours instant between two instants (inclusive), where possible."""
    if end <= start:
        return start
    day = start.date() + timedelta(days=rng.randint(0, (end.date() - start.date()).days))
    moment = datetime.combine(day, time(rng.randint(7, 16), rng.choice((0, 15, 30, 45))), UTC)
    if not start <= moment <= end:
        moment = start + (end - start) * rng.random()
        moment = moment.replace(microsecond=0)
    return moment


def _spread(start: datetime, end: datetime, n: int, rng: random.Random) -> list[datetime]:
    """`n` strictly increasing instants from `start` to `end` (both included)."""
    if n == 1:
        return [end]
    out = [start]
    for f in sorted(rng.random() for _ in range(n - 2)):
        moment = (start + (end - start) * f).replace(second=0, microsecond=0)
        office = moment.replace(hour=rng.randint(7, 16), minute=rng.choice((0, 15, 30, 45)))
        if out[-1] < office < end:
            moment = office
        if moment <= out[-1]:
            moment = out[-1] + timedelta(minutes=1)
        out.append(moment)
    out.append(end)
    if any(b <= a for a, b in pairwise(out)):  # too short a span: even steps
        step = (end - start) / (n - 1)
        out = [start + step * i for i in range(n - 1)] + [end]
    return out


def _stage_path(rng: random.Random, last: int) -> list[int]:
    """Open-stage indexes from the first contact to `last`: forward, sometimes skipping a
    stage, rarely moving back one and forward again."""
    start = 0 if last == 0 or rng.random() < 0.85 else rng.randint(1, min(2, last))
    path = [i for i in range(start, last + 1) if i in (start, last) or rng.random() < 0.85]
    if len(path) >= 3 and rng.random() < 0.08:
        at = rng.randint(1, len(path) - 2)
        path[at + 1 : at + 1] = [path[at - 1], path[at]]
    return path


def _fill(template: str, deal: _Deal, rng: random.Random, competitor: str = "") -> str:
    return template.format(
        first=deal.contact[0].split()[0],
        product=deal.product,
        company=deal.company.name,
        competitor=competitor or rng.choice(_COMPETITORS),
        topic=rng.choice(_TOPICS.get(deal.product, _TOPICS["Insight"])),
        source=deal.source or "inbound",
    )


# ------------------------------------------------------------------ the build


def ensure_built(
    home: Home, *, today: date, now: datetime, force: bool = False
) -> DemoSummary | None:
    """Build the demo desk in `home` unless today's is there (its dates are relative to the
    day); returns what was built, or None when today's desk was kept."""
    if not force and demo_is_current(home.desk, today):
        return None
    # The day's mark goes first: a build killed half way left an empty desk beside today's
    # mark, and every `repdesk demo` that day opened it as built (a hostile test).
    (home.desk.parent / STAMP_FILE).unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{home.desk}{suffix}").unlink(missing_ok=True)
    # The copies an upgrade kept of an older demo: beside a missing desk they would refuse
    # its rebuild as a desk lost beside its backups (found by a review).
    for kept in home.desk.parent.glob(f"{home.desk.name}.pre-v*.bak"):
        kept.unlink(missing_ok=True)
    engine = store.make_engine(home.desk)
    try:
        summary = build_demo(engine, today=today, now=now)
    finally:
        engine.dispose()
    mark_built(home.desk, today)
    write_settings(home.settings)
    return summary


def write_settings(path: Path) -> None:
    """The demo desk's settings: a rate for pounds, none for dollars, so the KPI screen shows
    both a converted currency and deals left out for want of a rate."""
    from repdesk.settings import DEFAULT_TEXT

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            DEFAULT_TEXT + "GBP = 1.15\n# No USD rate on purpose: its deals are left out.\n",
            encoding="utf-8",
        )


def build_demo(engine: Engine, *, today: date, now: datetime, seed: int = 7) -> DemoSummary:
    """Fill an empty, freshly created desk with the demo; the same inputs give the same rows."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware instant")
    now = now.astimezone(UTC).replace(microsecond=0)
    with store.write_session(engine) as session:
        if session.execute(select(func.count()).select_from(Deal)).scalar_one():
            raise ValueError("the demo is built into an empty desk only; this one has deals")
        stage_rows = session.execute(
            select(
                col(Stage.id),
                col(Stage.name),
                col(Stage.kind),
                col(Stage.rot_days),
                col(Stage.probability),
            ).order_by(col(Stage.position), col(Stage.id))
        ).all()
        rows = _generate(
            [(r.id, r.kind, r.rot_days) for r in stage_rows], today=today, now=now, seed=seed
        )
        open_probability = {r.id: r.probability for r in stage_rows if r.kind == "open"}
        rows += _forecast_story(rows, open_probability, today=today, now=now, seed=seed)
        for model, table_rows in rows:
            if table_rows:
                session.execute(insert(model), table_rows)
        _people(session, now)
    deals = rows[0][1]
    return DemoSummary(
        deals=len(deals),
        open_deals=sum(1 for d in deals if d["status"] == "open"),
        won=sum(1 for d in deals if d["status"] == "won"),
        lost=sum(1 for d in deals if d["status"] == "lost"),
        activities=len(rows[2][1]),
        follow_ups=len(rows[3][1]),
        objections=len(rows[4][1]),
    )


# Roles a demo contact plays, by the link's id: every role shows up somewhere.
_DEMO_ROLES = ("decision maker", "champion", "finance", "user", "other")


def _people(session: Any, now: datetime) -> None:
    """The demo's people as records (as the schema step makes them from deal text), with
    roles, a won customer's "stay in touch" rhythm, and its latest emails as if captured."""
    from sqlalchemy import text

    from repdesk.storage import migrations

    for statement in migrations.adopt_people_sql(session.get_bind().dialect.name):
        session.execute(text(statement))
    roles = " ".join(f"WHEN {n} THEN '{role}'" for n, role in enumerate(_DEMO_ROLES))
    session.execute(text(f"UPDATE deal_contact SET role = CASE id % 5 {roles} END"))
    session.execute(
        text(
            "UPDATE company SET touch_every_days = 60 WHERE id = (SELECT MIN(d.company_id) "
            "FROM deal d WHERE d.status = 'won' AND d.company_id IS NOT NULL)"
        )
    )
    latest = session.execute(
        text(
            "SELECT id, deal_id FROM activity WHERE kind = 'email' ORDER BY at DESC, id DESC "
            "LIMIT 3"
        )
    ).all()
    captured = [
        {"source_key": f"mail:demo-{activity_id}@demo.example", "kind": "activity",
         "item_id": activity_id, "deal_id": deal_id, "captured_at": now}
        for activity_id, deal_id in latest
    ]  # fmt: skip
    if captured:
        session.execute(insert(Captured), captured)


def _generate(
    stages: list[tuple[int, str, int | None]], *, today: date, now: datetime, seed: int
) -> list[tuple[type, list[dict[str, Any]]]]:
    rng = random.Random(seed)
    open_ids = [s[0] for s in stages if s[1] == "open"]
    rot_days = [s[2] for s in stages if s[1] == "open"]
    won_id = next((s[0] for s in stages if s[1] == "won"), None)
    lost_id = next((s[0] for s in stages if s[1] == "lost"), None)
    if not open_ids or won_id is None or lost_id is None:
        raise ValueError("the demo needs open stages, a won stage and a lost stage")
    n_open = len(open_ids)

    month = period_containing(today, "month")
    quarter = period_containing(today, "quarter")
    months: list[Period] = [month]
    while len(months) < MONTHS:
        months.insert(0, months[0].prev())
    history_start = months[0].start
    companies = _companies(rng, history_start)
    # Every company gets a deal; some get many (a few key accounts).
    ranked = list(companies)
    rng.shuffle(ranked)
    company_weights = [1 / (i + 1) ** 0.5 for i in range(len(ranked))]
    unused = list(companies)
    rng.shuffle(unused)
    wins_by_company: dict[str, list[date]] = {}
    deals: list[_Deal] = []

    def new_deal(
        status: str,
        product: str,
        qty: int,
        value: int,
        first: date,
        closed: date | None,
        open_index: int,
    ) -> _Deal:
        company = unused.pop() if unused else rng.choices(ranked, company_weights)[0]
        deal = _Deal(len(deals), status, company, product, qty, value, first, closed, open_index)
        deal.index_path = _stage_path(rng, open_index)
        earlier_win = any(d < first for d in wins_by_company.get(company.name, ()))
        deal.segment = "existing" if company.customer_since or earlier_win else "new"
        deal.source = rng.choices(SOURCES, _SOURCE_WEIGHTS[status])[0]
        if deal.segment == "existing" and rng.random() < 0.5:
            deal.source = "referral" if rng.random() < 0.3 else "inbound"
        deal.contact = rng.choice(company.contacts)
        deal.title = _title(rng, deal)
        deals.append(deal)
        if status == "won" and closed is not None:
            wins_by_company.setdefault(company.name, []).append(closed)
        return deal

    def product() -> str:
        return rng.choices(PRODUCTS, _PRODUCT_WEIGHTS)[0]

    def won_deal(period_start: date, period_end: date, value_room: int | None) -> int:
        """Draw one won deal closed in the period; with `value_room`, only one that fits.
        Returns its value (0 if the drawn one did not fit)."""
        prod = product()
        qty, value = _offer(rng, prod)
        if value_room is not None and value > value_room:
            return 0
        closed = period_start + timedelta(days=rng.randint(0, (period_end - period_start).days))
        cycle = max(10, min(120, round(rng.triangular(14, 120, 45))))
        last = rng.choices(range(n_open), _weights((0, 0, 0, 1, 7, 12), n_open))[0]
        new_deal("won", prod, qty, value, closed - timedelta(days=cycle), closed, last)
        return value

    # Won deals, month by month: older months around the €60k quota (some big months, some
    # weak); this quarter about on pace; this month visibly behind pace.
    month_start_in_quarter = max(quarter.start, history_start)
    for period in months:
        if period.start >= month_start_in_quarter:
            continue
        target = MONTH_QUOTA_CENTS * rng.triangular(0.5, 1.45, 0.95)
        won = 0
        while won < target:
            won += won_deal(period.start, period.end, None)
    expected_quarter = QUARTER_QUOTA_CENTS * quarter.days_elapsed(today) / quarter.days
    expected_month = MONTH_QUOTA_CENTS * month.days_elapsed(today) / month.days
    month_target = expected_month * rng.uniform(0.62, 0.72)
    month_won = _fill_to(month_target, lambda room: won_deal(month.start, today, room), 0.45)
    if quarter.start < month.start:
        earlier = month.start - timedelta(days=1)
        rest = expected_quarter * rng.uniform(0.98, 1.03) - month_won
        _fill_to(rest, lambda room: won_deal(quarter.start, earlier, room), 0.3)

    # Lost deals: about 55% of the decided ones, spread over the whole history.
    won_count = len(deals)
    history_days = (today - history_start).days
    for _ in range(round(won_count * 55 / 45)):
        reason = rng.choices(LOST_REASONS, _LOST_WEIGHTS)[0]
        if reason == "not a fit":
            last = rng.randint(0, min(2, n_open - 1))
        elif reason in ("price", "chose competitor"):
            last = rng.choices(range(n_open), _weights((2, 3, 5, 8, 10, 7), n_open))[0]
        else:
            last = rng.choices(range(n_open), _weights((12, 14, 12, 10, 8, 4), n_open))[0]
        closed = history_start + timedelta(days=rng.randint(0, history_days))
        cycle = rng.randint(10, 40 + 16 * last) if reason != "went silent" else rng.randint(45, 120)
        prod = product()
        qty, value = max(_offer(rng, prod), _offer(rng, prod), key=lambda o: o[1])
        deal = new_deal(
            "lost", prod, qty, value, closed - timedelta(days=min(cycle, 120)), closed, last
        )
        deal.lost_reason = reason

    # Open deals: fewer in later stages, some in their stage longer than its rot limit.
    counts = _open_counts(n_open)
    for index, count in enumerate(counts):
        rot = rot_days[index] or 21
        n_rotting = max(1, round(count * 0.22))
        for j in range(count):
            in_stage = rot + rng.randint(2, 30) if j < n_rotting else int(rot * rng.random() ** 1.6)
            entered_day = today - timedelta(days=in_stage)
            before = rng.randint(2 + 3 * index, 14 + 14 * index)
            first = entered_day - timedelta(days=before)
            prod = product()
            tries = 6 if index >= 4 and rng.random() < 0.15 else 1  # a few big ones late on
            qty, value = max((_offer(rng, prod) for _ in range(tries)), key=lambda o: o[1])
            deal = new_deal("open", prod, qty, value, first, None, index)
            if len(deal.index_path) == 1:  # still in the stage it started in
                first = deal.first_contact = entered_day
            deal.entered_at = _instant(entered_day, rng, now)
            ahead = rng.choices(
                (rng.randint(-6, -1), rng.randint(0, month.days_left(today)), rng.randint(0, 90)),
                weights=(0.5, (0.1, 0.2, 0.5, 1, 2, 3)[min(index, 5)], 6),
            )[0]
            deal.expected_close = max(today + timedelta(days=ahead), first)
            age = (today - first).days
            if age >= 24 and rng.random() < (0.55 if j < n_rotting else 0.1):
                deal.quiet_days = rng.randint(20, min(60, age - 2))

    # A handful of deals in other currencies, never in the quota periods shown.
    quota_floor = months[-6].start
    for deal in deals:
        if deal.status == "won" and deal.closed_on and deal.closed_on >= quota_floor:
            continue
        if deal.company.country == "GB" and rng.random() < 0.2:
            deal.currency = "GBP"
        elif rng.random() < 0.012:
            deal.currency = "USD"

    # Ids in creation order, as a rep would have entered them.
    deals.sort(key=lambda d: (d.first_contact, d.seq))
    for number, deal in enumerate(deals, start=1):
        deal.id = number

    return _rows(rng, deals, open_ids, won_id, lost_id, today=today, now=now, month=month)


def _weights(base: tuple[int, ...], n: int) -> list[float]:
    """Weights per open stage, for the default six; a reshaped pipeline gets them stretched."""
    if n == len(base):
        return list(base)
    return [base[min(len(base) - 1, i * len(base) // n)] + 0.1 for i in range(n)]


def _open_counts(n_open: int) -> list[int]:
    if n_open == len(OPEN_PER_STAGE):
        return list(OPEN_PER_STAGE)
    total = sum(OPEN_PER_STAGE)
    weights = [n_open - i + 2 for i in range(n_open)]
    return [max(1, round(total * w / sum(weights))) for w in weights]


def _fill_to(target: float, draw: Any, max_share: float = 1.0) -> int:
    """Draw deals that fit into what is left of `target` (none above `max_share` of it) until
    less than the smallest deal is left, or draws keep failing. Returns the value drawn."""
    total, misses = 0, 0
    while target - total >= MIN_VALUE_CENTS and misses < 80:
        value = draw(int(min(target - total, target * max_share)))
        total += value
        misses = 0 if value else misses + 1
    return total


def _rows(
    rng: random.Random,
    deals: list[_Deal],
    open_ids: list[int],
    won_id: int,
    lost_id: int,
    *,
    today: date,
    now: datetime,
    month: Period,
) -> list[tuple[type, list[dict[str, Any]]]]:
    deal_rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    follow_ups: list[dict[str, Any]] = []
    objections: list[dict[str, Any]] = []

    # The pending next steps of the open deals: exact queue sizes, so the demo's day is full.
    open_deals = [d for d in deals if d.status == "open"]
    order = list(open_deals)
    rng.shuffle(order)
    plan: dict[int, str] = {}
    wanted = {"overdue": 12, "today": 8, "week": 25, "none": 20}
    for deal in order:  # overdue ones need a deal old enough to have missed a date
        if wanted["overdue"] and (today - deal.first_contact).days > 11:
            plan[deal.id] = "overdue"
            wanted["overdue"] -= 1
    for deal in order:
        if deal.id in plan:
            continue
        kind = next((k for k in ("today", "week", "none") if wanted[k]), "later")
        if kind != "later":
            wanted[kind] -= 1
        plan[deal.id] = kind

    # Post-sale check-ins repeat on a few recent wins.
    recent_wins = [
        d
        for d in deals
        if d.status == "won" and d.closed_on and 45 <= (today - d.closed_on).days <= 400
    ]
    check_ins = {d.id for d in rng.sample(recent_wins, min(7, len(recent_wins)))}

    for deal in deals:
        first_at = _instant(deal.first_contact, rng, now)
        index_path = deal.index_path
        if deal.status == "open":
            assert deal.entered_at is not None
            end = max(deal.entered_at, first_at)
            if len(index_path) == 1:
                first_at = end
            elif end - first_at < timedelta(hours=len(index_path)):
                first_at = end - timedelta(hours=len(index_path))
            path = [open_ids[i] for i in index_path]
            moments = _spread(first_at, end, len(path), rng)
            close_at = None
        else:
            assert deal.closed_on is not None
            close_at = _instant(deal.closed_on, rng, now)
            if close_at - first_at < timedelta(hours=len(index_path) + 1):
                first_at = close_at - timedelta(hours=len(index_path) + 1)
            path = [open_ids[i] for i in index_path] + [won_id if deal.status == "won" else lost_id]
            moments = _spread(first_at, close_at, len(path), rng)
        deal.path, deal.moments = path, moments
        previous = None
        for stage_id, moment in zip(path, moments, strict=True):
            changes.append(
                {
                    "deal_id": deal.id,
                    "from_stage_id": previous,
                    "to_stage_id": stage_id,
                    "changed_at": moment,
                }
            )
            previous = stage_id
        phases: list[object] = [*index_path, deal.status]

        def phase_at(moment: datetime, deal: _Deal = deal, phases: list[object] = phases) -> object:
            return phases[max(0, bisect_right(deal.moments, moment) - 1)]

        expected = deal.expected_close
        if deal.closed_on is not None:
            expected = max(deal.first_contact, deal.closed_on + timedelta(rng.randint(-20, 10)))
        competitor = rng.choice(_COMPETITORS)
        deal_rows.append(
            {
                "id": deal.id,
                "title": deal.title,
                "company": deal.company.name,
                "contact": deal.contact[0],
                "email": deal.contact[1],
                "phone": deal.contact[2],
                "value_cents": deal.value_cents,
                "currency": deal.currency,
                "stage_id": path[-1],
                "status": deal.status,
                "source": deal.source,
                "product": deal.product,
                "region": deal.company.region,
                "segment": deal.segment,
                "first_contact": first_at.date(),
                "expected_close": expected,
                "closed_on": deal.closed_on,
                "lost_reason": deal.lost_reason,
                "stage_entered_at": moments[-1],
                "created_at": first_at,
                "updated_at": moments[-1],
                "source_id": None,
                # Who a deal lost to a competitor went to: the one its last note names.
                "competitor": competitor if deal.lost_reason == "chose competitor" else "",
            }
        )

        # Activities over the deal's life. Open deals: recent touches, unless gone quiet.
        if close_at is not None:
            life_end = close_at
        elif deal.quiet_days:
            life_end = max(first_at, _instant(today - timedelta(deal.quiet_days), rng, now))
        else:
            life_end = now
        life_days = (life_end - first_at).days
        n = min(rng.randint(8, 15), 3 + life_days // 2)
        times = [first_at] + [_between(first_at, life_end, rng) for _ in range(n - 2)]
        if close_at is not None:
            times.append(close_at - timedelta(minutes=rng.randint(0, 120)))
        elif deal.quiet_days:
            times.append(life_end)
        else:
            recent = max(first_at, _instant(today - timedelta(rng.randint(0, 9)), rng, now))
            times.append(recent)
        used: set[str] = set()
        for at in sorted(max(first_at, t) for t in times):
            activities.append(_activity(rng, deal, at, phase_at(at), competitor, used))
        if deal.status == "lost":
            activities[-1] = {
                **activities[-1],
                "kind": "note",
                "outcome": "",
                "minutes": None,
                "text": _lost_note(deal, competitor),
            }

        # Done follow-ups in the past.
        for _ in range(rng.randint(1, 3)):
            due_at = _between(first_at, min(life_end, now), rng)
            done_at = min(due_at + timedelta(days=rng.randint(0, 2)), life_end, now)
            phase = phase_at(due_at)
            follow_ups.append(
                {
                    "deal_id": deal.id,
                    "due_on": due_at.date(),
                    "due_time": None,
                    "note": _fill(
                        rng.choice(_FOLLOW_UP_NOTES.get(phase, ("Check in",))), deal, rng
                    ),
                    "created_at": max(first_at, due_at - timedelta(days=rng.randint(1, 7))),
                    "done_at": done_at,
                    "outcome": rng.choice(_DONE_OUTCOMES),
                    "recur_days": None,
                }
            )
        if deal.status == "open":
            follow_ups.extend(_next_step(rng, deal, plan[deal.id], first_at, today, now))
        elif deal.id in check_ins:
            assert deal.closed_on is not None and close_at is not None
            follow_ups_made, calls = _check_ins(rng, deal, close_at, today, now)
            follow_ups.extend(follow_ups_made)
            activities.extend(calls)

        objections.extend(_objections(rng, deal, first_at, life_end, competitor, phase_at))

    _cover_categories(rng, objections, deals)
    activities.sort(key=lambda a: (a["at"], a["deal_id"]))
    follow_ups.sort(key=lambda f: (f["created_at"], f["deal_id"], f["due_on"]))
    objections.sort(key=lambda o: (o["raised_at"], o["deal_id"]))
    quotas = [
        {"period": month.label, "amount_cents": MONTH_QUOTA_CENTS},
        {"period": period_containing(today, "quarter").label, "amount_cents": QUARTER_QUOTA_CENTS},
        {"period": period_containing(today, "year").label, "amount_cents": YEAR_QUOTA_CENTS},
    ]
    previous_month = month
    for _ in range(5):
        previous_month = previous_month.prev()
        quotas.append({"period": previous_month.label, "amount_cents": MONTH_QUOTA_CENTS})
    return [
        (Deal, deal_rows),
        (StageChange, changes),
        (Activity, activities),
        (FollowUp, follow_ups),
        (Objection, objections),
        (Quota, quotas),
    ]


_KINDS = ("call", "email", "meeting", "note")


def _activity(
    rng: random.Random,
    deal: _Deal,
    at: datetime,
    phase: object,
    competitor: str,
    used: set[str] | None = None,
) -> dict[str, Any]:
    """One logged activity; `used` keeps a deal's texts from repeating while others are left."""
    work = _WORK.get(phase, _WORK[5] if phase == "lost" else _WORK[0])
    early = phase in (0, 1)
    kind = rng.choices(_KINDS, weights=(5, 4, 1 if early else 3, 1))[0]
    outcome, minutes = "", None
    templates = work[kind]
    if used is not None:
        templates = tuple(t for t in templates if t not in used) or templates
    template = rng.choice(templates)
    if used is not None:
        used.add(template)
    text = _fill(template, deal, rng, competitor)
    if kind == "call":
        outcome = rng.choices(
            CALL_OUTCOMES, weights=(3, 3, 3, 1, 0.4) if early else (8, 2, 2, 1, 0.1)
        )[0]
        first = deal.contact[0].split()[0]
        if outcome == "no answer":
            text, minutes = rng.choice(("No answer", f"No answer, try {first} again")), 1
        elif outcome == "left voicemail":
            text, minutes = f"Left a voicemail for {first}", rng.randint(1, 2)
        elif outcome == "not interested":
            text, minutes = f"{first}: not interested right now", rng.randint(2, 6)
        elif outcome == "meeting booked":
            text = f"Booked a meeting with {first}"
            minutes = rng.randint(5, 20)
        else:
            minutes = rng.choice((10, 15, 20, 25, 30, 45))
    elif kind == "meeting":
        minutes = rng.choice((30, 45, 60, 60, 90))
    return {
        "deal_id": deal.id,
        "kind": kind,
        "at": at,
        "outcome": outcome,
        "minutes": minutes,
        "text": text,
    }


def _lost_note(deal: _Deal, competitor: str) -> str:
    first = deal.contact[0].split()[0]
    return {
        "price": f"Lost on price: {first} could not get past our number",
        "chose competitor": f"They chose {competitor}",
        "no budget": "No budget this year; revisit next year",
        "timing": f"{first}: not now, maybe next year",
        "not a fit": "Not a fit: too small for the product today",
        "went silent": f"No reply from {first} after several tries; closing",
    }.get(deal.lost_reason, "Lost")


def _next_step(
    rng: random.Random, deal: _Deal, kind: str, first_at: datetime, today: date, now: datetime
) -> list[dict[str, Any]]:
    if kind == "none":
        return []
    if kind == "overdue":
        due = today - timedelta(days=rng.randint(1, 10))
    elif kind == "today":
        due = today
    elif kind == "week":
        due = today + timedelta(days=rng.randint(1, 7))
    else:
        due = today + timedelta(days=rng.randint(8, 45))
    at = None
    if rng.random() < (0.7 if kind == "today" else 0.25):
        at = time(rng.choice((9, 10, 11, 13, 14, 15, 16)), rng.choice((0, 0, 30)))
    created = max(first_at, _instant(min(due, today) - timedelta(rng.randint(1, 7)), rng, now))
    note = _fill(rng.choice(_FOLLOW_UP_NOTES[deal.open_index]), deal, rng)
    row = {
        "deal_id": deal.id,
        "due_on": due,
        "due_time": at,
        "note": note,
        "created_at": created,
        "done_at": None,
        "outcome": "",
        "recur_days": None,
    }
    return [row]


def _check_ins(
    rng: random.Random, deal: _Deal, close_at: datetime, today: date, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    assert deal.closed_on is not None
    every = 90 if (today - deal.closed_on).days > 150 else rng.choice((30, 90))
    note = _fill(_FOLLOW_UP_NOTES["won"][0], deal, rng)
    created = close_at
    due = deal.closed_on + timedelta(days=every)
    slack = rng.randint(0, 6)  # some of the pending ones are a few days overdue
    made, calls = [], []
    while due < today - timedelta(days=slack):
        done_at = _instant(due + timedelta(days=rng.randint(0, 2)), rng, now)
        made.append(
            {
                "deal_id": deal.id,
                "due_on": due,
                "due_time": None,
                "note": note,
                "created_at": created,
                "done_at": done_at,
                "outcome": "connected",
                "recur_days": every,
            }
        )
        calls.append(_activity(rng, deal, done_at, "won", ""))
        calls[-1].update(
            kind="call",
            outcome="connected",
            minutes=rng.choice((10, 15, 20)),
            text=_fill(_WORK["won"]["call"][0], deal, rng),
        )
        created = done_at
        due += timedelta(days=every)
    pending = {
        "deal_id": deal.id,
        "due_on": due,
        "due_time": None,
        "note": note,
        "created_at": created,
        "done_at": None,
        "outcome": "",
        "recur_days": every,
    }
    made.append(pending)
    return made, calls


def _objections(
    rng: random.Random,
    deal: _Deal,
    first_at: datetime,
    life_end: datetime,
    competitor: str,
    phase_at: Any,
) -> list[dict[str, Any]]:
    if deal.status == "won":
        weights = (55, 37, 8)
    elif deal.status == "lost":
        weights = (40, 48, 12)
    elif deal.open_index <= 1:
        weights = (85, 15, 0)
    elif deal.open_index <= 3:
        weights = (55, 40, 5)
    else:
        weights = (40, 45, 15)
    count = rng.choices((0, 1, 2), weights)[0]
    made: list[dict[str, Any]] = []
    for number in range(count):
        category = rng.choices(tuple(_CATEGORY_WEIGHTS), tuple(_CATEGORY_WEIGHTS.values()))[0]
        if number == 0 and deal.lost_reason in _REASON_CATEGORY and rng.random() < 0.7:
            category = _REASON_CATEGORY[deal.lost_reason]
        said, answers, winning = rng.choice(_OBJECTIONS[category])
        pool = answers + (winning if deal.status == "won" else ())
        said = _fill(said, deal, rng, competitor)
        answer = _fill(rng.choice(pool), deal, rng, competitor)
        if deal.status == "won":
            status = rng.choices(("addressed", "resolved"), (15, 85))[0]
        elif deal.status == "lost":
            status = rng.choices(("open", "addressed", "resolved"), (20, 55, 25))[0]
        else:
            status = rng.choices(("open", "addressed", "resolved"), (35, 40, 25))[0]
        # Raised in the middle of the deal's life, mostly once it was qualified.
        start = first_at + (life_end - first_at) * 0.2
        raised = _between(start, life_end, rng)
        resolved = None
        if status == "resolved":
            resolved = min(raised + timedelta(days=rng.randint(1, 20)), life_end)
            if resolved <= raised:
                resolved = raised + (life_end - raised) / 2
        made.append(
            {
                "deal_id": deal.id,
                "category": category,
                "said": said,
                "answer": "" if status == "open" else answer,
                "status": status,
                "raised_at": raised,
                "resolved_at": resolved,
            }
        )
    return made


def _cover_categories(
    rng: random.Random, objections: list[dict[str, Any]], deals: list[_Deal]
) -> None:
    """Make sure every category appears (the playbook and the stats show them all)."""
    by_id = {d.id: d for d in deals}
    for category in OBJECTION_CATEGORIES:
        if category in _OBJECTIONS and not any(o["category"] == category for o in objections):
            target = next((o for o in objections if o["category"] == "price"), None)
            if target is None:
                continue
            deal = by_id[target["deal_id"]]
            target["category"] = category
            said, answers, _ = rng.choice(_OBJECTIONS[category])
            target["said"] = _fill(said, deal, rng)
            if target["answer"]:
                target["answer"] = _fill(rng.choice(answers), deal, rng)


# ------------------------------------------------------------------ the forecast (issue 21)

_NPS_WEIGHTS = {10: 25, 9: 25, 8: 18, 7: 10, 6: 8, 5: 5, 4: 3, 3: 2, 2: 1, 1: 1, 0: 2}
_COMMITMENTS = (
    "Signed order form back",
    "Pricing agreed with procurement",
    "Demo to the CFO booked",
    "Legal review of the contract done",
    "Pilot scope signed off",
    "Decision meeting held",
)


def _forecast_story(
    rows: list[tuple[type, list[dict[str, Any]]]],
    open_probability: dict[int, int],
    *,
    today: date,
    now: datetime,
    seed: int,
) -> list[tuple[type, list[dict[str, Any]]]]:
    """What schema 4 keeps, told over the generated deals: forecast calls and own
    probabilities, close dates that slipped, every category change, customer scores, and
    commitments for this week and the week before (half of those kept). A random stream of
    its own, so the rows drawn before it stay as they were."""
    rng = random.Random(f"{seed}-forecast")
    deal_rows = rows[0][1]
    stage_changes = rows[1][1]
    for row in deal_rows:
        row.update(forecast=None, probability=None, nps=None, nps_on=None)
        row.setdefault("competitor", "")

    def category(stage_id: int, row: dict[str, Any]) -> str:
        own = row["probability"]
        return forecast.category(
            row["forecast"], own if own is not None else open_probability[stage_id]
        )

    # Category changes the stage moves made (between open stages).
    category_changes: list[dict[str, Any]] = []
    for change in stage_changes:
        was, to = change["from_stage_id"], change["to_stage_id"]
        if was in open_probability and to in open_probability:
            before = forecast.default_category(open_probability[was])
            after = forecast.default_category(open_probability[to])
            if before != after:
                category_changes.append(
                    {"deal_id": change["deal_id"], "from_category": before,
                     "to_category": after, "changed_at": change["changed_at"]}
                )  # fmt: skip

    open_rows = [row for row in deal_rows if row["status"] == "open"]
    month = period_containing(today, "month")
    closing = [r for r in open_rows if r["expected_close"] and month.contains(r["expected_close"])]

    probability_changes: list[dict[str, Any]] = []

    def call(row: dict[str, Any], *, override: str | None = None, own: int | None = None) -> None:
        before = category(row["stage_id"], row)
        row["forecast"], row["probability"] = override, own
        after = category(row["stage_id"], row)
        # No draw from the stream for the probability's own moment: the rows after stay.
        moment = max(row["stage_entered_at"], now - timedelta(days=3))
        if before != after:
            moment = _between(max(row["stage_entered_at"], now - timedelta(days=10)), now, rng)
            category_changes.append(
                {"deal_id": row["id"], "from_category": before, "to_category": after,
                 "changed_at": moment}
            )  # fmt: skip
        if own is not None:
            probability_changes.append(
                {"deal_id": row["id"], "stage_id": None, "from_probability": None,
                 "to_probability": own, "changed_at": moment}
            )  # fmt: skip

    by_stage: dict[float, list[dict[str, Any]]] = {}
    for row in closing:
        by_stage.setdefault(open_probability[row["stage_id"]], []).append(row)
    probabilities = sorted(by_stage)
    if probabilities:
        for row in by_stage[probabilities[-2 if len(probabilities) > 1 else -1]][:3]:
            call(row, override=forecast.COMMIT)  # the rep's confident calls
        for row in by_stage[probabilities[-1]][:1]:
            call(row, override=forecast.BEST_CASE)  # a Negotiation the rep doubts
        for row in by_stage[probabilities[0]][:1]:
            call(row, own=45)  # early, but the buyer is keen
    for row in rng.sample(open_rows, min(2, len(open_rows))):
        if row["forecast"] is None and row["probability"] is None:
            call(row, override=forecast.OMITTED)

    # Close dates that slipped: a third of the open deals, once or twice, recently.
    close_changes: list[dict[str, Any]] = []
    for row in open_rows:
        if row["expected_close"] is None or rng.random() > 0.35:
            continue
        later = row["expected_close"]
        steps = []
        for _ in range(rng.choice((1, 1, 2))):
            earlier = later - timedelta(days=rng.randint(7, 30))
            if earlier < row["first_contact"]:
                break
            steps.append((earlier, later))
            later = earlier
        first_at = row["created_at"]
        moments = sorted(_between(max(first_at, now - timedelta(days=20)), now, rng) for _ in steps)
        for (was, to), moment in zip(reversed(steps), moments, strict=True):
            close_changes.append(
                {"deal_id": row["id"], "from_date": was, "to_date": to, "changed_at": moment}
            )

    # Scores from the customers won in the last year who answered (about half).
    for row in deal_rows:
        closed = row["closed_on"]
        if row["status"] != "won" or closed is None or (today - closed).days > 365:
            continue
        if rng.random() < 0.5:
            row["nps"] = rng.choices(tuple(_NPS_WEIGHTS), tuple(_NPS_WEIGHTS.values()))[0]
            row["nps_on"] = min(today, closed + timedelta(days=rng.randint(3, 30)))

    # Commitments: this week's, and last week's, marked or still to mark.
    this_week = week_containing(today)
    commitments: list[dict[str, Any]] = []
    late = sorted(open_rows, key=lambda r: (-open_probability[r["stage_id"]], r["id"]))
    texts = list(_COMMITMENTS)
    rng.shuffle(texts)
    for number, (week, outcome) in enumerate(
        [(this_week.prev(), "kept"), (this_week.prev(), "missed"), (this_week.prev(), "kept"),
         (this_week.prev(), None), (this_week, None), (this_week, None)]
    ):  # fmt: skip
        if number >= len(late):
            break
        made = datetime.combine(week.start, time(8, 30)).astimezone(UTC)
        made = min(made, now)
        commitments.append(
            {
                "deal_id": late[number]["id"],
                "week": week.label,
                "text": texts[number % len(texts)],
                "made_at": made,
                "outcome": outcome,
                "marked_at": None if outcome is None else min(now, made + timedelta(days=4)),
            }
        )
    category_changes.sort(key=lambda c: (c["changed_at"], c["deal_id"]))
    close_changes.sort(key=lambda c: (c["changed_at"], c["deal_id"]))
    return [
        (CloseDateChange, close_changes),
        (ForecastChange, category_changes),
        (ProbabilityChange, probability_changes),
        (Commitment, commitments),
    ]
