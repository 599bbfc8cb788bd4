"""The WFDB beat code each class is written as, and the AAMI class an EC57 comparison reads from it."""

from __future__ import annotations

#: class name -> WFDB beat code written; a class WFDB has no code for (beat-2's "ectopic", a new task's) is
#: written Q, unclassifiable, with its name as the annotation's note (`symbol_of`, `noted`)
SYMBOL = {"N": "N", "S": "A", "V": "V", "F": "F", "Q": "Q", "normal": "N"}
#: class name -> the AAMI class an EC57 comparison reads from that code
AAMI_OF = {"N": "N", "S": "S", "V": "V", "F": "F", "Q": "Q", "normal": "N"}


def symbol_of(name: str) -> str:
    return SYMBOL.get(name, "Q")


def noted(name: str) -> str:
    """The aux note of a beat of class `name`: its name where its code does not say it."""
    return "" if name in SYMBOL else name
