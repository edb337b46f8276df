"""What every browser test shares: where Chromium is, how it is launched, and the rule for when it is missing.

Without Chromium the tests skip with the reason printed; with TNRWATCH_REQUIRE_BROWSER=1 (CI) they fail instead, so a
missing browser never passes silently there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("TNRWATCH_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"


def chromium_or_skip() -> str:
    """The Chromium executable; skip the calling test (or fail it, under TNRWATCH_REQUIRE_BROWSER) without one."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path:
        return path
    reason = "Chromium is not installed (apt-get install chromium); browser tests cannot run"
    if os.environ.get("TNRWATCH_REQUIRE_BROWSER"):
        pytest.fail(reason + ", and TNRWATCH_REQUIRE_BROWSER is set")
    pytest.skip(reason)


def serious_axe_violations(page: Any) -> list[str]:
    page.evaluate(AXE.read_text())  # evaluated by the driver, not injected: the page's CSP forbids inline script
    result = page.evaluate("axe.run()")
    return [
        f"{violation['id']}: {violation['help']} ({len(violation['nodes'])} nodes)"
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
