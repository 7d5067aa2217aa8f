"""Find English left in a report meant for another language (the Chinese edition's check).

:func:`untranslated` reads the visible text of an exported ``report.html`` and looks for
two kinds of leftovers:

- raw catalog keys (``report.kpi.customers``): a string shown where a message was meant;
- English catalog text: an English message of at least two words, or a piece of an English
  template (the words between its ``{placeholders}`` and Markdown marks) with at least two
  words that are not function words ("of the" alone says nothing), that appears verbatim
  and is not also part of the message's translation (``"95% CI"`` stays, a sentence does not).

Values from the data (file names, a user's own segment names) are not catalog text and are
not reported, nor are glosses: English in full-width parentheses, the way a Chinese
textbook names the original term (``已运行（ran）``, ``提升度（lift）``). An English template
that leaks shows its own ASCII parentheses, so glosses are all this leaves out.
"""

from __future__ import annotations

import re
import string
from html.parser import HTMLParser

from crmlab.i18n import Catalog

__all__ = ["visible_text", "untranslated"]

# Elements whose content a reader does not see as text.
_HIDDEN = {"script", "style", "template", "noscript"}
# An English word: letters, a capital at most first (acronyms such as CI or NPS are allowed).
_WORD = re.compile(r"^[\"'(“‘]*[A-Za-z][a-z]+(?:['’-][a-z]+)*[\"')”’,.;:!?]*$")
# Markdown marks the renderer removes: they split a template into the pieces shown verbatim.
_MARKS = re.compile(r"\*\*|\*|`|\n")
# Words too common to tell a leftover piece of a template from any English text.
_FUNCTION_WORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or so than that the their them "
    "they this to was were which who with".split()
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


# A gloss: full-width parentheses holding no other full-width parentheses.
_GLOSS = re.compile(r"（[^（）]*）")


def _without_glosses(text: str) -> str:
    while True:
        shorter = _GLOSS.sub(" ", text)
        if shorter == text:
            return text
        text = shorter


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def visible_text(html_text: str) -> str:
    """Return the text a reader sees in ``html_text``, whitespace collapsed to single spaces.

    The title is included; scripts, styles and the tags themselves are not.
    """
    parser = _Text()
    parser.feed(html_text)
    parser.close()
    return _squash(" ".join(parser.parts))


def _words(piece: str, content: bool) -> int:
    words = [w for w in piece.split() if _WORD.match(w)]
    if content:
        words = [w for w in words if re.sub(r"[^A-Za-z'’-]", "", w).lower() not in _FUNCTION_WORDS]
    return len(words)


def _pieces(template: str) -> list[str]:
    """Return the literal pieces of a template a reader would see verbatim (>= 2 English words)."""
    parsed = list(string.Formatter().parse(template))
    whole = len(parsed) == 1 and parsed[0][1] is None  # a message without placeholders
    out = []
    for literal, _, _, _ in parsed:
        for piece in _MARKS.split(literal or ""):
            piece = _squash(piece).strip(" ,.;:—–-()")
            if _words(piece, content=not (whole and piece == _squash(template).strip(" ,.;:—–-()"))) >= 2:
                out.append(piece)
    return out


def untranslated(html_text: str, en_catalog: Catalog, zh_catalog: Catalog) -> tuple[list[str], list[str]]:
    """English left in a translated report.

    Parameters
    ----------
    html_text : str
        The exported report (or any HTML).
    en_catalog, zh_catalog : Catalog
        The English catalog and the catalog of the report's language.

    Returns
    -------
    tuple of (list of str, list of str)
        The catalog keys shown as such (sorted), and the English catalog text found verbatim
        (``"key: piece"``, sorted); both empty for a fully translated report.
    """
    text = visible_text(html_text)
    keys = sorted(k for k in en_catalog.messages
                  if "." in k and re.search(rf"(?<![\w.]){re.escape(k)}(?![\w.])", text))
    found = set()
    text = _without_glosses(text)
    for key, template in en_catalog.messages.items():
        theirs = _squash(zh_catalog.messages.get(key, ""))
        for piece in _pieces(template):
            if piece in theirs:
                continue  # the same words in both languages (a name, an acronym)
            if re.search(rf"(?<![A-Za-z]){re.escape(piece)}(?![A-Za-z])", text):
                found.add(f"{key}: {piece}")
    return keys, sorted(found)
