"""User text made safe to show: the one way text from the desk, an import or a setting reaches
the terminal (the shell's output and every place on the app's screens).

A terminal acts on control characters: `ESC ] 2 ; ... BEL` retitles the window, `ESC [ 2 J`
clears the screen, a C1 `CSI` does the same in one byte, and a right-to-left override turns
the rest of the line around. Shown instead, visibly and one cell each, so that the text stays
recognisable and every column stays where it was:

- C0 controls as their Unicode control pictures (`ESC` as `␛`, `BEL` as `␇`, NUL as `␀`), DEL
  as `␡`;
- C1 controls, the bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069),
  the invisible zero-width space, word joiner and byte-order mark, and lone surrogates (a
  file that was not UTF-8) as U+FFFD `�`;
- a line break (`\\n`, `\\r\\n`, `\\r`, U+2028, U+2029) as `⏎` where one line is shown (a
  card, a queue row, a form's title, a line of `deal list`), as a line break where the place
  holds several (`multiline=True`); a tab as a space.

The zero-width joiner and non-joiner (emoji sequences, Persian, Indic scripts) and the
left-to-right and right-to-left marks (ordinary in Arabic and Hebrew text) are kept: they
move nothing outside the text itself. What is stored is never changed: only what is shown.
"""

from __future__ import annotations

import re
import unicodedata

NEWLINE_MARK = "\u23ce"  # ⏎
REPLACEMENT = "\ufffd"  # �

_C0 = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ ... ␟
_HIDDEN = [
    *range(0x80, 0xA0),  # C1 controls (0x9B is a one-byte CSI)
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2066, 0x206A),  # bidi isolates
    0x200B,  # zero-width space
    0x2060,  # word joiner
    0xFEFF,  # zero-width no-break space (a byte-order mark)
    *range(0xD800, 0xE000),  # lone surrogates
]
_SHOWN = {**_C0, 0x7F: "\u2421", **dict.fromkeys(_HIDDEN, REPLACEMENT)}
_BREAKS = (0x0A, 0x0D, 0x2028, 0x2029)
_ONE_LINE = {**_SHOWN, 0x09: " ", **dict.fromkeys(_BREAKS, NEWLINE_MARK)}
_LINES = {**_SHOWN, 0x09: " ", **dict.fromkeys(_BREAKS, "\n")}


def _character_class(codes: list[int]) -> str:
    """A regular expression's class of these code points, runs written as ranges: a class of
    two thousand single characters took 3 ms to compile, on every command's start."""
    runs: list[list[int]] = []
    for code in sorted(set(codes)):
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return (
        "["
        + "".join(
            re.escape(chr(first)) + ("" if last == first else "-" + re.escape(chr(last)))
            for first, last in runs
        )
        + "]"
    )


# What a JSON document written to a terminal must not hold raw (see `safe_json`).
_UNSAFE_IN_JSON = re.compile(_character_class([0x7F, *_HIDDEN, 0x2028, 0x2029]))


def one_name(text: str) -> str:
    """A name as it is kept and matched (a stage's, a company's in an import): composed (NFC:
    "Cafe" with a combining accent and "Café" are one name), its words one space apart."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def same_name(a: str, b: str) -> bool:
    """Whether two names are one, in any case: casefold, not SQLite's lower(), which leaves
    É as it is (`deal move 1 café` did not find the stage CAFÉ: a review); in compatibility
    form (a full-width Ｗｏｎ is Won) and without the invisible direction marks (a Hebrew name
    with and without U+200F were two stages that looked alike: a hostile test)."""
    return name_key(a) == name_key(b)


def name_key(name: str) -> str:
    """A name as `same_name` compares it: a key for a dictionary of names (an import's stage
    words, its headers), so a lookup and `stage add` hold one rule."""
    return unicodedata.normalize("NFKC", one_name(name)).casefold().translate(_NO_MARKS)


# What draws nothing between letters, and so cannot tell two names apart: the direction marks,
# the joiners (kept in a name: an emoji sequence and a Persian word need them), the combining
# grapheme joiner and the variation selectors (`Pro\u200dposal` beside Proposal: a review).
_NO_MARKS = dict.fromkeys(
    (0x200C, 0x200D, 0x200E, 0x200F, 0x034F, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0))
)


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` as it may be shown: nothing in it acts on the terminal (see the module's doc).
    One line unless `multiline`. Showing it twice changes nothing more."""
    return text.replace("\r\n", "\n").translate(_LINES if multiline else _ONE_LINE)


def cut(text: str, limit: int = 60) -> str:
    """`text` as one printable line of at most `limit` characters: a name or a reason from an
    import or a sync may be 100,000 characters long."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown_value(text: str, limit: int = 40) -> str:
    """A value quoted in a message, cut short: a 5,000-digit paste must not fill the screen."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def safe_json(document: str) -> str:
    """A JSON document (`json.dumps(..., ensure_ascii=False)`) with every character a terminal
    could act on written as a `\\uXXXX` escape: the same data for a program reading it, and
    nothing for the terminal to run when it is printed. (`json.dumps` already escapes C0.)"""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
