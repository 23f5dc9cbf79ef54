"""Tables that fit the terminal: lower-priority columns give way instead of every header
shrinking to "arch…"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

_UNBOUNDED = 100_000  # measure a table's natural width, not the width it would be squeezed to


@dataclass(frozen=True)
class Column:
    """A column's header, alignment and priority: 0 always stays; when the table is wider than
    the terminal, the highest number goes first (the rightmost of equals)."""

    header: str
    priority: int = 0
    justify: Literal["left", "right"] = "left"


def fitted_table(
    console: Console,
    columns: Sequence[Column],
    rows: Iterable[Sequence[str | Text]],
    title: str | None = None,
    caption: str | None = None,
) -> Table:
    """`rows` under `columns`, leaving out optional columns until the table fits the console's
    width; the caption (after `caption`) names what was left out. Cells fold, never truncate;
    strings (title and caption too) are shown literally, never read as markup; an empty row draws
    a line between sections."""
    cells = [[Text(c) if isinstance(c, str) else c for c in row] for row in rows]
    shown = list(range(len(columns)))
    while True:
        table = _table(columns, cells, shown, title, caption)
        unbounded = console.options.update_width(_UNBOUNDED)
        if console.measure(table, options=unbounded).maximum <= console.width:
            return table
        optional = [i for i in shown if columns[i].priority > 0]
        if not optional:
            return table
        shown.remove(max(reversed(optional), key=lambda i: columns[i].priority))


def _table(
    columns: Sequence[Column],
    rows: list[list[Text]],
    shown: list[int],
    title: str | None,
    caption: str | None,
) -> Table:
    hidden = [column.header for i, column in enumerate(columns) if i not in shown]
    notes = [caption] if caption else []
    if hidden:
        notes.append(f"not shown at this width: {', '.join(hidden)}")
    table = Table(
        title=Text(title, style="table.title") if title else None,
        caption=Text("; ".join(notes), style="table.caption") if notes else None,
    )
    for i in shown:
        table.add_column(columns[i].header, justify=columns[i].justify, overflow="fold")
    for row in rows:
        if row:
            table.add_row(*(row[i] for i in shown))
        else:
            table.add_section()
    return table
