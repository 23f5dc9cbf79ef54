import io

from rich.console import Console

from tickcast.cli.tables import Column, fitted_table

COLUMNS = [
    Column("version"),
    Column("dataset", 2),
    Column("family", 1),
    Column("test MASE", justify="right"),
    Column("promotion", 2),
]
ROWS = [["* v1", "ds-0123456789ab", "lstm_cross_stock", "1.0021", "promoted: beat persistence"]]


def render(width: int, rows: list[list[str]] = ROWS) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(fitted_table(console, COLUMNS, rows, title="registered versions"))
    return console.export_text()


def test_wide_terminal_shows_every_column_whole() -> None:
    text = render(160)
    for header in ("version", "dataset", "family", "test MASE", "promotion"):
        assert header in text
    assert "ds-0123456789ab" in text and "lstm_cross_stock" in text
    assert "not shown" not in text


def test_narrow_terminal_drops_low_priority_columns_and_says_which() -> None:
    text = render(50)
    lines = text.splitlines()
    assert all(len(line) <= 50 for line in lines)
    assert "family" in text and "lstm_cross_stock" in text  # priority 1 stays longest
    assert "…" not in text  # nothing truncated
    flat = " ".join(text.split())
    assert "not shown at this width: dataset, promotion" in flat
    assert "test MASE" in flat and "1.0021" in flat


def test_the_rightmost_of_equal_priorities_goes_first() -> None:
    flat = " ".join(render(75).split())
    assert "not shown at this width: promotion" in flat
    assert "ds-0123456789ab" in flat


def test_cells_are_literal_text_not_markup() -> None:
    text = render(160, [["[bold]v1[/]", "[red]x", "a[b]c", "1", "p"]])
    assert "[bold]v1[/]" in text and "[red]x" in text and "a[b]c" in text
