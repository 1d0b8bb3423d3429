"""What an import tells the rep besides its counts: how each file was read, and what came in
differently from a plain row (a kept value, a close after today, a migrated record, a currency
without a rate). Words only; the notes are gathered by `csv_import` and `services.transfer`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import date

from repdesk.core import forecast
from repdesk.core.kpi import rates_to_add
from repdesk.core.quantities import MAX_MINUTES
from repdesk.core.text import printable, shown_value
from repdesk.io.csv_import import ImportPlan

SHOWN = 3  # FILE:LINE examples per note
KEPT = 10  # kept values named (a free-text column can hold thousands)


def _deals(number: int) -> str:
    return f"{number:,} deal" if number == 1 else f"{number:,} deals"


def _first(wheres: list[str]) -> str:
    shown = ", ".join(wheres[:SHOWN])
    return f"{shown}, …" if len(wheres) > SHOWN else shown


def summary_lines(
    plan: ImportPlan, *, desk_currency: str, rated: Collection[str], dry_run: bool
) -> list[str]:
    """The summary's notes, one line each, in the order a rep reads them."""
    notes = plan.notes
    lines: list[str] = [printable(line) for line in notes.date_forms]
    if notes.assumed_currency:
        # Said once: a Salesforce export without CurrencyIsoCode came in as euros without a
        # word, where the rep sells in dollars (a new-user trial).
        taken = "would be taken" if dry_run else "are taken"
        lines.append(
            f"Amounts with no currency in the file ({_deals(len(notes.assumed_currency))}) "
            f"{taken} as {desk_currency}, the desk's currency; a currency column (Salesforce's "
            "CurrencyIsoCode, or --map currency=COLUMN) says otherwise"
        )
    if notes.not_reachable:
        shown = ", ".join(
            f"{shown_value(value, 30)} ({where})" for where, value in notes.not_reachable[:SHOWN]
        )
        more = ", …" if len(notes.not_reachable) > SHOWN else ""
        left = "would be left out" if dry_run else "left out"
        count = len(notes.not_reachable)
        lines.append(
            f"{count:,} email or phone {'cell' if count == 1 else 'cells'} {left}, being no "
            f"address (ana@acme.example) nor number (3 digits or more): {printable(shown)}{more}"
        )
    if notes.stage_probabilities:
        changed = ", ".join(
            f"{printable(name)} {old}% -> {new}%" for name, old, new in notes.stage_probabilities
        )
        verb = "would take" if dry_run else "take"
        lines.append(
            f"The desk has no deals yet: its stages {verb} the file's probabilities: {changed}"
        )
    if notes.stages_reordered:
        verb = "would take" if dry_run else "take"
        lines.append(f"The desk has no deals yet: its stages {verb} the file's order (above)")
    if notes.kept_segments:
        columns, listed = _values_listed(notes.kept_segments)
        lines.append(
            f"{columns} values kept as they are, each a segment of its own "
            f"(not new or existing): {listed}"
        )
    if notes.crm_forecasts:
        per_call = Counter(call for _, call in notes.crm_forecasts)
        counted = ", ".join(
            f"{forecast.label(call)} {per_call[call]:,}"
            for call in forecast.CATEGORIES
            if per_call[call]
        )
        wheres = [where for where, _ in notes.crm_forecasts]
        many = len(wheres) > 1
        verb = "would keep" if dry_run else "keep" if many else "keeps"
        lines.append(
            f"{_deals(len(wheres))} {verb} the CRM's forecast category as the rep's call, where "
            f"it differs from {'their' if many else 'its'} stage's ({counted}): {_first(wheres)}"
        )
    if notes.stage_forecasts:
        differ = ", ".join(
            f"{printable(stage)} {forecast.label(theirs)} (the desk: {forecast.label(ours)} at "
            f"{chance}%)"
            for stage, theirs, ours, chance in notes.stage_forecasts
        )
        count = len(notes.stage_forecasts)
        stages = f"{count} stages" if count > 1 else "a stage"
        lines.append(
            f"The CRM forecasts the open deals of {stages} "
            f"otherwise than the desk, and they follow the desk: {differ}; `repdesk stage set "
            "STAGE --probability N` moves a stage's default, `repdesk deal set DEAL --forecast "
            "CATEGORY` one deal's"
        )
    if notes.unknown_forecasts:
        columns, listed = _values_listed(notes.unknown_forecasts)
        lines.append(
            f"{columns} values that are no forecast category repdesk knows (commit, "
            f"best case, pipeline, omitted): those deals take their stage's default: {listed}"
        )
    if notes.expected_passed:
        passed = notes.expected_passed
        lines.append(
            f"{_deals(len(passed))} open with an expected close already past: in no period's "
            "forecast until the date moves (`repdesk deal set DEAL --expected-close DATE`, or "
            f"`e` on its card): {_first(passed)}"
        )
    if notes.future_closes:
        wheres = [where for where, _ in notes.future_closes]
        latest = max(day for _, day in notes.future_closes)
        lines.append(
            f"{_deals(len(wheres))} closed after today, as the CRM has them (the latest on "
            f"{latest}); each counts in the period of its close date: {_first(wheres)}"
        )
    if notes.closed_before_created:
        lines.append(_before_created(notes.closed_before_created, "closed", "close date"))
    if notes.expected_before_created:
        lines.append(
            _before_created(notes.expected_before_created, "expected to close", "expected close")
        )
    if notes.no_first_contact:
        lines.append(
            f"{_deals(len(notes.no_first_contact))} with no first-contact date: each is taken "
            f"as today ({notes.today}), or as its close or expected close date when that is "
            f"earlier: {_first(notes.no_first_contact)}"
        )
    if notes.long_calls:
        many = len(notes.long_calls) > 1
        calls = f"{len(notes.long_calls):,} call{'s' if many else ''} in the file"
        lines.append(
            f"{calls} {'are' if many else 'is'} longer than a day: each is kept as "
            f"{MAX_MINUTES:,} minutes, the most a call holds: {_first(notes.long_calls)}"
        )
    unrated = Counter(
        row.currency
        for row in plan.deals
        if row.currency != desk_currency and row.currency not in rated
    )
    if unrated:
        codes = sorted(unrated)
        held = ", ".join(f"{_deals(unrated[code])} in {code}" for code in codes)
        many = sum(unrated.values()) > 1
        verb = "would be" if dry_run else "are" if many else "is"
        lines.append(
            f"Warning: {held} {verb} left out of every KPI until the settings have a rate for "
            f"{' and '.join(codes)}: {rates_to_add(codes)}"
        )
    return lines


def _values_listed(found: dict[str, tuple[str, list[str]]]) -> tuple[str, str]:
    """A file's own values of a descriptive column (value -> its column, FILE:LINE of each):
    the columns they came from, and the values, most deals first, each quoted short, the first
    KEPT of them."""
    columns = " and ".join(sorted({column for column, _ in found.values()}))
    ranked = sorted(found.items(), key=lambda item: (-len(item[1][1]), item[0]))
    listed = ", ".join(
        f"{shown_value(printable(value))} ({_deals(len(wheres))})"
        for value, (_, wheres) in ranked[:KEPT]
    )
    if len(ranked) > KEPT:
        listed += f" and {len(ranked) - KEPT:,} more"
    return columns, listed


def _before_created(found: list[tuple[str, date]], verb: str, what: str) -> str:
    wheres = [where for where, _ in found]
    day, on_day = Counter(created for _, created in found).most_common(1)[0]
    if on_day == len(found) > 1:
        loaded = f" (all created on {day}: a data load?)"
    elif on_day > 1:
        loaded = f" ({on_day:,} of them created on {day}: a data load?)"
    else:
        loaded = ""
    cycle = ", a cycle of 0 days" if verb == "closed" else ""
    return (
        f"{_deals(len(wheres))} {verb} before the CRM record was created{loaded}: each one's "
        f"first contact is taken as its {what}{cycle}: {_first(wheres)}"
    )
