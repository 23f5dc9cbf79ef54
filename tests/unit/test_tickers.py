import pytest

from tickcast.tickers import ticker_symbol, ticker_symbols


@pytest.mark.parametrize(
    ("name", "symbol"),
    [
        ("BRK-B", "BRK-B"),
        ("bf.b", "BF.B"),
        ("^GSPC", "^GSPC"),
        ("EURUSD=X", "EURUSD=X"),
        ("7203.T", "7203.T"),
        ("A" * 16, "A" * 16),
    ],
)
def test_valid_names_become_upper_case_symbols(name: str, symbol: str) -> None:
    assert ticker_symbol(name) == symbol


@pytest.mark.parametrize(
    "name",
    [
        "",
        "BAD NAME",
        " AAPL",
        "AAPL ",
        "A&B",
        "QUO'TE",
        'QU"OTE',
        ".HIDDEN",
        "-X",
        "=X",
        "A" * 17,
        "ÄPFEL",
        "A/B",
        "A;DROP",
        "[bold]X",
    ],
)
def test_invalid_names_are_refused_with_the_rule(name: str) -> None:
    with pytest.raises(ValueError, match=r"is not a ticker symbol \(1-16 letters, digits"):
        ticker_symbol(name)


def test_a_ticker_listed_twice_in_any_case_is_refused() -> None:
    assert ticker_symbols(["aapl", "MSFT"]) == ["AAPL", "MSFT"]
    with pytest.raises(ValueError, match="listed more than once: AAPL"):
        ticker_symbols(["aapl", "AAPL"])
