"""What each CRM's export looks like: a format is a header signature (how `--from auto` knows
it), a column mapping (our field -> the headers that may hold it) and the CRM's own stage and
status words. Everything after that (parsing values, checking rows, writing) is one pipeline
shared by every format; see `repdesk.io.csv_import`.

Headers are compared normalised (case-folded, spaces collapsed), so `Deal - Title` and
`deal -  title` are the same column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from repdesk.core.text import name_key

DEALS = "deals"
ACTIVITIES = "activities"
ACCOUNTS = "accounts"
CONTACTS = "contacts"  # people (Salesforce Contact.csv)
CONTACT_ROLES = "contact_roles"  # who is on which deal (Salesforce OpportunityContactRole.csv)
UNSUPPORTED = "unsupported"  # recognised, so the message can say what to import instead

# Our side of a mapping: what `--map FIELD=COLUMN` accepts, with what each means.
DEAL_FIELDS: dict[str, str] = {
    "id": "the deal's id in the other CRM (re-importing updates the deal with this id)",
    "title": "the deal's title (required)",
    "company": "the company or account name",
    "contact": "the contact person",
    "email": "the contact's email",
    "phone": "the contact's phone",
    "value": "the deal's value, e.g. 12500.50",
    "currency": "a three-letter code (default: the desk's)",
    "stage": "the stage (mapped with --stage-map)",
    "status": "open, won or lost (mapped with --status-map; else taken from the stage)",
    "is_won": "true/false or 1/0: the deal is won",
    "is_closed": "true/false or 1/0: the deal is closed (won or lost)",
    "source": "the lead source or channel",
    "product": "the product",
    "region": "the region",
    "segment": "new or existing customer (a CRM's other words are kept as they are)",
    "first_contact": "the date of first contact (or the record's creation)",
    "expected_close": "the date an open deal is expected to close",
    "closed_on": "the date a won or lost deal closed",
    "close_date": "one column for both: when it closed, or is expected to",
    "lost_reason": "why a lost deal was lost",
    "probability": "win probability in percent (used for stages made by --create-stages)",
    "stage_order": "the stage's place in the CRM's pipeline (created stages follow it)",
    "stage_probability": "the stage's own win probability in percent",
    "forecast": "the rep's forecast call: commit, best case, pipeline or omitted (empty: auto)",
    "own_probability": "the deal's own win probability in percent (empty: its stage's)",
    "competitor": "who the deal is up against, or was lost to",
    "nps": "a won customer's score, 0 to 10",
    "nps_on": "the day the customer gave the score",
}

DATE_FIELDS = ("first_contact", "expected_close", "closed_on", "close_date", "nps_on")
# The rep's own forecast fields (schema v5): repdesk's export carries them, so a round trip
# into an empty desk gives the forecast categories, the weighted pipeline, the lost deals by
# competitor and the NPS back; an import takes them from a file that has their columns.
OWN_FORECAST_FIELDS = ("forecast", "own_probability", "competitor", "nps", "nps_on")


def normalise(header: str) -> str:
    """A header or a stage word as it is matched: as `stage add` compares a stage's name
    (core.text.name_key: any case, compatibility form, words one space apart, no marks that
    draw nothing), so an import never adds a stage `stage add` would call taken."""
    return name_key(header.replace("\ufeff", ""))


@dataclass(frozen=True)
class Format:
    family: str  # the --from value: native, pipedrive, hubspot, salesforce, csv
    name: str  # for messages: "a Pipedrive deals export"
    records: str  # DEALS, ACTIVITIES or ACCOUNTS
    signature: frozenset[str]  # normalised headers that must all be present for auto
    columns: Mapping[str, tuple[str, ...]]  # field -> candidate headers, first non-empty wins
    id_prefix: str  # "pipedrive" -> source id "pipedrive:123"
    stages: Mapping[str, str] = field(default_factory=dict)  # their stage (normalised) -> ours
    statuses: Mapping[str, str] = field(default_factory=dict)  # their status -> open/won/lost
    # CRMs give a record's creation time, not the first contact: it may come after a close
    # date that was entered late, so the first contact is taken back to that date.
    created_is_first_contact: bool = False
    # Our own CSV escapes formula-looking cells on export; only our import undoes that.
    unescapes_formulas: bool = False
    # Our fields whose times without an offset the CRM writes in UTC (Salesforce's data export
    # writes CreatedDate as "2023-02-07 20:47:49"); elsewhere such a time is the rep's own.
    naive_utc: frozenset[str] = frozenset()


def _cols(**columns: Iterable[str]) -> dict[str, tuple[str, ...]]:
    return {name: tuple(normalise(h) for h in headers) for name, headers in columns.items()}


def _map(pairs: Mapping[str, str]) -> dict[str, str]:
    return {normalise(k): v for k, v in pairs.items()}


NATIVE_COLUMNS = (
    "source_id",
    "title",
    "company",
    "contact",
    "email",
    "phone",
    "value",
    "currency",
    "stage",
    "status",
    "source",
    "product",
    "region",
    "segment",
    "first_contact",
    "expected_close",
    "closed_on",
    "lost_reason",
    # The deal's stage as the desk had it: an export re-imported into an empty desk gets its
    # pipeline back (created stages, probabilities, order), so every KPI reads the same.
    "stage_order",
    "stage_probability",
    *OWN_FORECAST_FIELDS,
)

NATIVE = Format(
    family="native",
    name="a repdesk CSV (native columns)",
    records=DEALS,
    signature=frozenset({"title"}),
    columns=_cols(id=["source_id"], **{c: [c] for c in NATIVE_COLUMNS if c != "source_id"}),
    id_prefix="",  # native ids are full source ids already ("pipedrive:12")
    unescapes_formulas=True,
)

PIPEDRIVE = Format(
    family="pipedrive",
    name="a Pipedrive deals export",
    records=DEALS,
    signature=frozenset({normalise("Deal - Title")}),
    columns=_cols(
        id=["Deal - ID"],
        title=["Deal - Title"],
        company=["Deal - Organization", "Organization - Name"],
        contact=["Deal - Contact person", "Person - Name"],
        email=["Person - Email", "Person - Email - Work"],
        phone=["Person - Phone", "Person - Phone - Work"],
        value=["Deal - Value"],
        currency=["Deal - Currency of Value", "Deal - Currency"],
        stage=["Deal - Stage"],
        status=["Deal - Status"],
        source=["Deal - Source channel", "Deal - Source origin"],
        product=["Deal - Product name"],
        # Pipedrive has no deal type of its own; accounts add one under these names.
        segment=["Deal - Deal type", "Deal - Type", "Deal - Type of deal"],
        first_contact=["Deal - Deal created"],
        expected_close=["Deal - Expected close date"],
        closed_on=["Deal - Won time", "Deal - Lost time", "Deal - Deal closed on"],
        lost_reason=["Deal - Lost reason"],
        probability=["Deal - Probability"],
    ),
    id_prefix="pipedrive",
    # Pipedrive's default pipeline.
    stages=_map(
        {
            "Lead In": "Prospect",
            "Contact Made": "Contacted",
            "Qualified": "Qualified",
            "Demo Scheduled": "Demo",
            "Proposal Made": "Proposal",
            "Negotiations Started": "Negotiation",
        }
    ),
    created_is_first_contact=True,
)

HUBSPOT = Format(
    family="hubspot",
    name="a HubSpot deals export",
    records=DEALS,
    signature=frozenset({normalise("Deal Name"), normalise("Deal Stage")}),
    columns=_cols(
        id=["Record ID", "Deal ID"],
        title=["Deal Name"],
        company=["Associated Company", "Associated Company (Primary)", "Company name"],
        contact=["Associated Contact", "Associated Contact (Primary)"],
        value=["Amount", "Amount in company currency"],
        currency=["Currency", "Deal currency code"],
        stage=["Deal Stage"],
        source=["Original Source Type", "Original Source"],
        product=["Product", "Deal product"],
        segment=["Deal Type"],  # New Business / Existing Business (or internal)
        first_contact=["Create Date"],
        close_date=["Close Date"],
        lost_reason=["Closed Lost Reason"],
        probability=["Deal probability"],
        crm_forecast=["Forecast category"],
    ),
    id_prefix="hubspot",
    # HubSpot's default sales pipeline, by label and by internal id.
    stages=_map(
        {
            "Appointment Scheduled": "Contacted",
            "appointmentscheduled": "Contacted",
            "Qualified To Buy": "Qualified",
            "qualifiedtobuy": "Qualified",
            "Presentation Scheduled": "Demo",
            "presentationscheduled": "Demo",
            "Decision Maker Bought-In": "Proposal",
            "decisionmakerboughtin": "Proposal",
            "Contract Sent": "Negotiation",
            "contractsent": "Negotiation",
            "Closed Won": "Won",
            "closedwon": "Won",
            "Closed Lost": "Lost",
            "closedlost": "Lost",
        }
    ),
    created_is_first_contact=True,
)

_SALESFORCE_STAGES = _map(
    {
        "Prospecting": "Prospect",
        "Qualification": "Qualified",
        "Needs Analysis": "Qualified",
        "Value Proposition": "Demo",
        "Id. Decision Makers": "Demo",
        "Perception Analysis": "Demo",
        "Proposal/Price Quote": "Proposal",
        "Proposal/Quote": "Proposal",
        "Negotiation/Review": "Negotiation",
        "Closed Won": "Won",
        "Closed Lost": "Lost",
    }
)

SALESFORCE_OPPORTUNITY = Format(
    family="salesforce",
    name="a Salesforce Opportunity export (API field names)",
    records=DEALS,
    signature=frozenset({"id", "name", "stagename"}),
    columns=_cols(
        id=["Id"],
        title=["Name"],
        company=["Account.Name", "AccountName"],  # a lookup through Account.csv otherwise
        value=["Amount"],
        currency=["CurrencyIsoCode"],
        stage=["StageName"],
        is_won=["IsWon"],
        is_closed=["IsClosed"],
        source=["LeadSource"],
        product=["Product__c"],
        segment=["Type"],
        first_contact=["CreatedDate"],
        close_date=["CloseDate"],
        lost_reason=["Loss_Reason__c"],
        probability=["Probability"],
        crm_forecast=["ForecastCategoryName", "ForecastCategory"],
        stage_order=["StageSortOrder"],
        account=["AccountId"],
    ),
    id_prefix="salesforce",
    stages=_SALESFORCE_STAGES,
    created_is_first_contact=True,
    # CloseDate is a day ("2023-05-11" or "2023-05-11 00:00:00"); CreatedDate an instant.
    naive_utc=frozenset({"first_contact"}),
)

SALESFORCE_REPORT = Format(
    family="salesforce",
    name="a Salesforce opportunity report (column labels)",
    records=DEALS,
    signature=frozenset({normalise("Opportunity Name"), normalise("Stage")}),
    columns=_cols(
        id=["Opportunity ID", "Opportunity Id"],
        title=["Opportunity Name"],
        company=["Account Name"],
        contact=["Primary Contact", "Contact Name"],
        value=["Amount"],
        currency=["Opportunity Currency", "Amount Currency"],
        stage=["Stage"],
        is_won=["Won"],
        is_closed=["Closed"],
        source=["Lead Source"],
        product=["Product Name", "Product"],
        segment=["Type"],
        first_contact=["Created Date"],
        close_date=["Close Date"],
        lost_reason=["Loss Reason"],
        probability=["Probability (%)", "Probability"],
        crm_forecast=["Forecast Category"],
    ),
    id_prefix="salesforce",
    stages=_SALESFORCE_STAGES,
    created_is_first_contact=True,
)

SALESFORCE_TASK = Format(
    family="salesforce",
    name="a Salesforce Task export (activities)",
    records=ACTIVITIES,
    signature=frozenset({"id", "subject", "whatid"}),
    columns=_cols(
        id=["Id"],
        what=["WhatId"],
        account=["AccountId"],
        subject=["Subject"],
        description=["Description"],
        on=["ActivityDate"],
        created=["CompletedDateTime", "CreatedDate"],
        subtype=["TaskSubtype"],
        type=["Type", "Type__c"],
        call_type=["CallType"],
        seconds=["CallDurationInSeconds"],
        disposition=["CallDisposition"],
        is_closed=["IsClosed"],
        status=["Status"],
    ),
    id_prefix="salesforce",
    naive_utc=frozenset({"created"}),  # ActivityDate is a day
)

SALESFORCE_ACCOUNT = Format(
    family="salesforce",
    name="a Salesforce Account export (company names)",
    records=ACCOUNTS,
    signature=frozenset({"id", "name", "billingcity"}),
    columns=_cols(id=["Id"], name=["Name"]),
    id_prefix="salesforce",
)

SALESFORCE_CONTACT = Format(
    family="salesforce",
    name="a Salesforce Contact export (people)",
    records=CONTACTS,
    signature=frozenset({"id", "accountid", "lastname"}),
    columns=_cols(
        id=["Id"],
        account=["AccountId"],
        name=["Name"],
        first=["FirstName"],
        last=["LastName"],
        title=["Title"],
        email=["Email"],
        phone=["Phone"],
        mobile=["MobilePhone"],
    ),
    id_prefix="salesforce",
)

SALESFORCE_CONTACT_ROLE = Format(
    family="salesforce",
    name="a Salesforce OpportunityContactRole export (who is on which deal)",
    records=CONTACT_ROLES,
    signature=frozenset({"opportunityid", "contactid", "role"}),
    columns=_cols(
        id=["Id"],
        opportunity=["OpportunityId"],
        contact=["ContactId"],
        role=["Role"],
        primary=["IsPrimary"],
    ),
    id_prefix="salesforce",
)

# Salesforce's contact roles, in repdesk's words.
SALESFORCE_ROLES = _map(
    {
        "Decision Maker": "decision maker",
        "Economic Decision Maker": "decision maker",
        "Executive Sponsor": "decision maker",
        "Economic Buyer": "finance",
        "Champion": "champion",
        "Influencer": "champion",
        "Business User": "user",
        "Evaluator": "user",
        "Technical Buyer": "user",
        "Other": "other",
    }
)

NATIVE_CONTACTS = Format(
    family="native",
    name="a repdesk contacts CSV (repdesk export contacts)",
    records=CONTACTS,
    signature=frozenset({"contact_id", "name", "emails"}),
    columns=_cols(
        id=["contact_id"],
        name=["name"],
        title=["title"],
        company=["company"],
        emails=["emails"],
        phones=["phones"],
        deals=["deals"],
    ),
    id_prefix="native",
    unescapes_formulas=True,
)

MAPPED = Format(
    family="csv",
    name="a CSV mapped with --map",
    records=DEALS,
    signature=frozenset(),
    columns={},
    id_prefix="csv",
)

# Most specific first: auto takes the first whose signature the headers contain.
ALL: tuple[Format, ...] = (
    SALESFORCE_TASK,
    SALESFORCE_ACCOUNT,
    SALESFORCE_CONTACT,
    SALESFORCE_CONTACT_ROLE,
    SALESFORCE_OPPORTUNITY,
    SALESFORCE_REPORT,
    PIPEDRIVE,
    HUBSPOT,
    NATIVE_CONTACTS,
    NATIVE,
)
FAMILIES = ("native", "pipedrive", "hubspot", "salesforce", "csv")


def recognise(headers: Iterable[str], family: str | None) -> Format | None:
    """The format whose signature these headers carry (within `family` if one is given)."""
    present = {normalise(h) for h in headers}
    for candidate in ALL:
        if family not in (None, candidate.family):
            continue
        if candidate.signature <= present:
            return candidate
    return None


def family_default(family: str) -> Format:
    """The deals format of a family, for `--from X` on a file whose signature is missing."""
    return {
        "native": NATIVE,
        "pipedrive": PIPEDRIVE,
        "hubspot": HUBSPOT,
        "salesforce": SALESFORCE_OPPORTUNITY,
        "csv": MAPPED,
    }[family]
