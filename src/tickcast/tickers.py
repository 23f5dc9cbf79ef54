"""The one ticker-name rule: file names, yfinance, the environment, the CLI and the HTTP API.

1-16 letters, digits and `.` `-` `^` `=`, starting with a letter, a digit or `^` (so `BRK-B`,
`BF.B`, `^GSPC` and `EURUSD=X` are tickers; spaces, quotes, `&` and a leading dot are not),
compared case-insensitively: the stored form is upper case.
"""

from __future__ import annotations

import re

TICKER_RULE = "1-16 letters, digits or . - ^ =, starting with a letter, a digit or ^"
# Case-insensitive form (the HTTP API's path and body pattern); symbols are stored upper case.
TICKER_PATTERN = r"^[A-Za-z0-9^][A-Za-z0-9.\-^=]{0,15}$"
_TICKER = re.compile(TICKER_PATTERN)


def ticker_symbol(name: str) -> str:
    """`name` as a stored ticker (upper case); ValueError saying why when it is not one."""
    if not _TICKER.match(name):
        raise ValueError(f"{name!r} is not a ticker symbol ({TICKER_RULE})")
    return name.upper()


def ticker_symbols(names: list[str]) -> list[str]:
    """Each name as a ticker, refusing invalid ones and a ticker listed twice (in any case)."""
    symbols = [ticker_symbol(name) for name in names]
    repeated = sorted({s for s in symbols if symbols.count(s) > 1})
    if repeated:
        raise ValueError(f"listed more than once: {', '.join(repeated)}")
    return symbols
