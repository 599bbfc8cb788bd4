"""The documentation site, made from the zoo: the model cards (`cards`, with `card_sections` and
`card_tasks`), the leaderboards and home page (`pages`), their figures (`figures`), the tables drawn from
benchmark results (`recording_pages`, `lever_table`), the configuration reference, the API reference's
Griffe extension (`docstring_placeholders`), and `build.build_site`, which runs mkdocs over all of it.

The top of the package: it reads the zoo, the published metadata and a checkout's docs and results
(`heartzoo.checkout`); nothing else in heartzoo imports it (only the CLI)."""

from __future__ import annotations

__all__ = ["build_site"]


def __getattr__(name: str):
    if name == "build_site":  # the build loads matplotlib and the cards: only when asked for
        from .build import build_site

        return build_site
    raise AttributeError(f"module 'heartzoo.site' has no attribute {name!r}")
