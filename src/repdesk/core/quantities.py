"""One parser per kind of counted value a rep types: a repeat, minutes, a percentage, a rot
limit, a customer score, a place in a list. Standard library only.

The shell (cli/shell.py) and the app's forms (tui/actions.py, tui/screens/stages.py) both
read typed values through these, so `--every 60w` and the form's repeat field take the same
forms, stop at the same limits and refuse with the same words. The message names the value as
typed and what would do instead; the shell puts the option's name before it (`every: ...`),
a form shows it beside its field. The services keep their own guard on the stored number
(services/followups.py, services/stages.py): a caller that is neither still meets a limit.
"""

from __future__ import annotations

from repdesk.core.text import shown_value

MAX_REPEAT_DAYS = 366
MAX_MINUTES = 24 * 60
MAX_ROT_DAYS = 3650
MAX_SCORE = 10
MAX_POSITION = 999
# Words that clear an optional setting, in whichever field takes one.
NONE_WORDS = frozenset({"none", "never", "off", "no", "clear"})
_CLEARED = NONE_WORDS | {""}  # an empty field clears it too


class QuantityInputError(ValueError):
    """A typed count that cannot be read; the message names the value and what would do."""


def _refuse(text: str, should: str) -> QuantityInputError:
    # A 10,000-digit paste: one line.
    return QuantityInputError(f"{shown_value(text.strip())} is not valid: {should}")


def _whole(raw: str, *, most: int, least: int = 0) -> int | None:
    """ASCII digits only (str.isdigit() also takes '²', which int() refuses) and a length cap,
    so that a 10,000-digit paste is refused before int() has to read it. The cap counts the
    digits after any leading zeros: `010` is ten, as the refusal's words promise."""
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    significant = raw.lstrip("0") or "0"
    if len(significant) > len(str(most)):
        return None
    number = int(significant)
    return number if least <= number <= most else None


REPEAT_FORMS = f"a repeat of 1 to {MAX_REPEAT_DAYS} days, in days or weeks such as 30d or 2w"


def parse_repeat(text: str) -> int:
    """'14d', '2w', '2 weeks' or '30' -> days between repeats (1 to 366)."""
    raw = text.strip().lower()
    unit = 1
    for suffix, days in (("weeks", 7), ("week", 7), ("w", 7), ("days", 1), ("day", 1), ("d", 1)):
        if raw.endswith(suffix):
            raw, unit = raw.removesuffix(suffix), days
            break
    # A space may stand between the count and its unit, never inside the count: `2 0` is a
    # typo, not twenty (it once read as 20, as `2 w e e k s` read as two weeks).
    raw = raw.rstrip()
    count = _whole(raw, most=MAX_REPEAT_DAYS, least=1)
    if count is None or count * unit > MAX_REPEAT_DAYS:
        raise _refuse(text, REPEAT_FORMS)
    return count * unit


def parse_optional_repeat(text: str) -> int | None:
    """A repeat, or none (empty, `off`, `never`): how often to stay in touch."""
    if text.strip().lower() in _CLEARED:
        return None
    try:
        return parse_repeat(text)
    except QuantityInputError:
        # `0` is how some would say "never": the refusal says what does.
        raise _refuse(text, f"{REPEAT_FORMS}, or off") from None


MINUTES_FORMS = f"a whole number of minutes from 0 to {MAX_MINUTES}, such as 15"


def parse_minutes(text: str) -> int:
    raw = text.strip().lower().removesuffix("min").strip()
    minutes = _whole(raw, most=MAX_MINUTES)
    if minutes is None:
        raise _refuse(text, MINUTES_FORMS)
    return minutes


PERCENT_FORMS = "a whole percentage from 0 to 100, such as 40"


def parse_percent(text: str) -> int:
    raw = text.strip().removesuffix("%").strip()
    percent = _whole(raw, most=100)
    if percent is None:
        raise _refuse(text, PERCENT_FORMS)
    return percent


# `stage` (and empty, in a form): the deal goes back to its stage's probability.
STAGE_PROBABILITY_WORDS = frozenset({"", "stage", "none", "auto"})
OWN_PROBABILITY_FORMS = "a whole percentage from 0 to 100, or stage for its stage's"


def parse_own_probability(text: str) -> int | None:
    """A deal's own win probability; None: its stage's again."""
    if text.strip().lower() in STAGE_PROBABILITY_WORDS:
        return None
    try:
        return parse_percent(text)
    except QuantityInputError:
        raise _refuse(text, OWN_PROBABILITY_FORMS) from None


ROT_FORMS = f"a number of days from 1 to {MAX_ROT_DAYS} such as 21, or none"


def parse_rot_days(text: str) -> int | None:
    """How many days without a touch before a stage's deal rots; None: it never does."""
    raw = text.strip().lower()
    if raw in _CLEARED:
        return None
    days = _whole(raw.removesuffix("days").removesuffix("d").strip(), most=MAX_ROT_DAYS, least=1)
    if days is None:
        raise _refuse(text, ROT_FORMS)
    return days


SCORE_FORMS = f"a whole number from 0 to {MAX_SCORE}, or none to clear it"


def parse_score(text: str) -> int | None:
    """A customer's 0-10 score (NPS); None: clear it."""
    raw = text.strip().lower()
    if raw in _CLEARED:
        return None
    score = _whole(raw, most=MAX_SCORE)
    if score is None:
        raise _refuse(text, SCORE_FORMS)
    return score


POSITION_FORMS = "a place such as 2 (1 is the first)"


def parse_position(text: str) -> int:
    position = _whole(text.strip(), most=MAX_POSITION, least=1)
    if position is None:
        raise _refuse(text, POSITION_FORMS)
    return position
