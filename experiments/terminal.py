r"""Text safe to print on a terminal: control characters in names and paths are shown escaped, never obeyed.

Scenario, channel, group and target names and file paths come from users' files; an ESC (``\x1b``) or CSI
(``\x9b``) in one of them could recolour, move the cursor, rewrite earlier lines or set the window title, and a
bidi override (``U+202E``) could reorder what is shown. :func:`printable` replaces every such character by its
``repr``-style escape (``\x1b``, ``\u202e``), so the reader sees what the file holds. Rich markup is a separate
matter: escape it with ``rich.markup.escape`` after :func:`printable`.
"""

from __future__ import annotations

import unicodedata

__all__ = ["printable"]

_BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
"""Arabic letter mark, LRM, RLM, the embeddings and overrides (LRE..RLO) and the isolates (LRI..PDI)."""

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _unsafe(char: str) -> bool:
    # Cc = C0 controls, DEL and C1 controls (CSI U+009B among them); Zl/Zp = line and paragraph separators.
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or ord(char) in _BIDI_CONTROLS


def _escaped(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: object, *, keep_newlines: bool = False) -> str:
    r"""``str(text)`` with control characters escaped, ``repr``-style, so that a terminal shows them as text.

    Args:
        text: Anything; it is converted with ``str``.
        keep_newlines: Keep ``\n`` as a line break (for messages of several lines); every other control
            character is still escaped.

    Returns:
        The text, unchanged when it holds no control character.

    Example:
        >>> printable("chat\x1b[2J")
        'chat\\x1b[2J'
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(_escaped(char) if _unsafe(char) and not (keep_newlines and char == "\n") else char for char in text)
