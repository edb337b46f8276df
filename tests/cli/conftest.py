"""The CLI's consoles take their width from the terminal when first imported; tests read whole tables, so give them a
wide one whatever terminal (or none) runs the suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tnrwatch.cli.common import err, out


@pytest.fixture(autouse=True)
def wide_consoles() -> Iterator[None]:
    widths = (out.width, err.width)
    out.width = err.width = 300
    yield
    out.width, err.width = widths
