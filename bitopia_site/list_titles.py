"""How Hugo titles a list page that has no title of its own: a term as written, title-cased; a
section's folder name made plural, then title-cased (its `pluralizeListTitles` and
`capitalizeListTitles`, both on by default). Both rules are checked against Hugo itself."""

from __future__ import annotations

import re

_SMALL_WORDS = frozenset("a an and as at but by en for if in nor of on or per the to v v. via vs vs.".split())
_TITLE_WORD = re.compile(r"[^\W_]+[^\t\n\f\r \-/]*")  # from a letter or digit up to a space, '-' or '/'
_TITLE_PLAIN = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2013": "-",
                              "\u2014": "-", "\u2026": "..."})


def hugo_title(text: str) -> str:
    """A title as Hugo cases it (its default `ap` style, the rule of the `prose` library it uses):
    each word's first letter upper case, but a small word (of, the, vs...) inside the title after
    a space, '-' or '/' that does not follow a ':' or '-'.

    Words are found in the text, and their neighbours looked up, as that library does: by UTF-8
    byte offsets in a copy with curly quotes and dashes made plain.
    """
    plain = text.translate(_TITLE_PLAIN).encode()
    end = len(plain)
    idx = 0

    def byte_at(i: int) -> int:  # the library's charAt: the first byte when out of range
        return plain[i] if 0 <= i < end else plain[0]

    def case(match: re.Match[str]) -> str:
        nonlocal idx
        word = match.group()
        found = plain.find(word.encode(), idx)
        pos = found if found >= 0 else idx - 1
        idx = pos + len(word.encode())
        small = pos != 0 and idx != end and word.lower() in _SMALL_WORDS
        if (small and byte_at(pos - 1) in b" -/" and byte_at(pos - 2) not in b":-"
                and (byte_at(idx) != ord("-") or byte_at(pos - 1) == ord("-"))):
            return word.lower()
        first = word[0].title()
        return (first if len(first) == 1 else word[0]) + word[1:]

    return _TITLE_WORD.sub(case, text)


_SAME_IN_PLURAL = frozenset("news series species sheep fish deer moose aircraft offspring information equipment "
                            "money rice software".split())
_IRREGULAR = {
    "person": "people", "child": "children", "mouse": "mice", "goose": "geese", "ox": "oxen", "foot": "feet",
    "tooth": "teeth", "datum": "data", "index": "indices", "matrix": "matrices", "appendix": "appendices",
    "vertex": "vertices", "criterion": "criteria", "phenomenon": "phenomena", "quiz": "quizzes", "photo": "photos",
    "piano": "pianos", "halo": "halos", "auto": "autos", "kilo": "kilos", "solo": "solos", "to": "tos",
    "cactus": "cacti", "focus": "foci", "fungus": "fungi", "stimulus": "stimuli", "syllabus": "syllabi",
    "corpus": "corpora", "alias": "aliases", "thief": "thieves", "shoe": "shoes", "leaf": "leaves", "loaf": "loaves",
}
_PLURALS = frozenset(_IRREGULAR.values())
# (ending, plural ending), the first that fits wins; a word already ending in a plural ending stays
_ENDINGS = (("man", "men"), ("sis", "ses"), ("fe", "ves"), ("lf", "lves"), ("rf", "rves"), ("us", "uses"),
            ("ss", "sses"), ("x", "xes"), ("ch", "ches"), ("sh", "shes"), ("tz", "tzes"), ("io", "ios"),
            ("oo", "oos"), ("o", "oes"))
_CONSONANT_Y = re.compile(r"(?:[bcdfghjklmnprstvwxz]|qu)y$")


def pluralize(word: str) -> str:
    """An English noun made plural as Hugo's inflector does it for list titles: `post` -> `posts`,
    `category` -> `categories`, `person` -> `people`; a word that looks plural already is kept."""
    lower = word.lower()
    if not lower or lower in _SAME_IN_PLURAL or lower in _PLURALS or lower.endswith(("men", "ves")):
        return word
    if lower in _IRREGULAR:
        return _IRREGULAR[lower]
    if _CONSONANT_Y.search(lower):
        return word[:-1] + "ies"
    for ending, plural in _ENDINGS:
        if lower.endswith(ending):
            return word[: len(word) - len(ending)] + plural
    return word if lower.endswith("s") else word + "s"


def section_title(folder: str, plural: bool = True, capitalize: bool = True) -> str:
    """The title of a section page with none of its own in a Hugo site: its folder's name."""
    name = pluralize(folder) if plural else folder
    return hugo_title(name) if capitalize else name
