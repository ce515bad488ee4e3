"""What psycopg's sync and async adapters share."""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"\$(\d+)")


def to_psycopg(sql: str) -> str:
    """``$1, $2, ...`` placeholders (in order, as every bench query has them) to ``%s``."""
    numbers = [int(n) for n in _PLACEHOLDER.findall(sql)]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"placeholders out of order in {sql!r}")
    return _PLACEHOLDER.sub("%s", sql)


def implementation() -> str:
    """"c", "binary" or "python": which psycopg implementation is loaded."""
    import psycopg

    return str(psycopg.pq.__impl__)
