"""A Griffe extension for the API reference (mkdocs.yml loads it): a docstring's placeholder such as
`zoo/<task>/<name>/<version>/` written without backticks would reach Markdown as HTML tags and render as
nothing; this puts such a run of text in backticks, so the page shows what the docstring says."""

from __future__ import annotations

import re
from typing import Any

import griffe

#: a run of path-like text holding at least one <placeholder>, outside `code`
_PLACEHOLDER = re.compile(r"[\w./@-]*<[a-z][\w .-]*>[\w./<>@-]*")
_CODE = re.compile(r"(`+)(?:.|\n)*?\1")


def quote_placeholders(text: str) -> str:
    """`text` with every bare <placeholder> run in backticks; code spans are left as they are."""
    out, last = [], 0
    for code in _CODE.finditer(text):
        out.append(_PLACEHOLDER.sub(lambda m: f"`{m.group(0)}`", text[last : code.start()]))
        out.append(code.group(0))
        last = code.end()
    out.append(_PLACEHOLDER.sub(lambda m: f"`{m.group(0)}`", text[last:]))
    return "".join(out)


class QuotePlaceholders(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = quote_placeholders(obj.docstring.value)
