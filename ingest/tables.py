"""Tables as facts: each data row becomes "row label, column header: value." statements, so a
question about one cell finds that cell's sentence, and a header row is never a passage of its own."""
from __future__ import annotations

from dataclasses import dataclass

# A cell of only a dash means "none" in most tables: no fact to state.
_EMPTY_CELLS = {"", "-", "–", "—"}


@dataclass(frozen=True)
class TableRow:
    """One row's cell texts, and whether it is a header row (``<th>`` cells, a Markdown or wiki header)."""

    cells: tuple[str, ...]
    header: bool = False


def table_statements(rows: list[TableRow] | tuple[TableRow, ...]) -> list[str]:
    """One statement per row: its label (first cell) with each other cell under its column header.

    A table with no header row keeps its rows as ``a | b`` lines, having no headers to name cells by.

    >>> table_statements([TableRow(("City", "Hotel cap per night", "Meals"), header=True),
    ...                   TableRow(("Paris", "€180", "€40")), TableRow(("Lyon", "€120", "–"))])
    ['Paris, Hotel cap per night: €180; Meals: €40.', 'Lyon, Hotel cap per night: €120.']
    """
    headers: tuple[str, ...] = ()
    statements = []
    for row in rows:
        cells = tuple(" ".join(cell.split()) for cell in row.cells)
        if not any(cells):
            continue
        if row.header:
            headers = cells
            continue
        if not headers or len(cells) < 2:
            statements.append(" | ".join(cell for cell in cells if cell))
            continue
        label, facts = cells[0], []
        for column, value in enumerate(cells[1:], start=1):
            if value in _EMPTY_CELLS:
                continue
            header = headers[column] if column < len(headers) else ""
            facts.append(f"{header}: {value}" if header and header != value else value)
        if facts:
            statements.append(f"{label}, " + "; ".join(facts) + ("" if facts[-1].endswith((".", "!", "?")) else ".")
                              if label else "; ".join(facts) + ".")
        elif label:
            statements.append(label)
    return statements
