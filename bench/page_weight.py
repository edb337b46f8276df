"""What the report form costs a reporter on a slow connection: every byte /report loads, raw and as sent (gzip).

    .venv/bin/python bench/page_weight.py

Prints a Markdown table for docs/benchmarks.md. It renders the page with a recipient key in place (so the form is
the one a reporter sees) and fetches each script and style sheet the page names, as a browser would.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from tnrwatch.services import recipient_keys
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store import migrate
from tnrwatch.web.app import create_app


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), key_wrap_strength="interactive")
        node = Node.open(settings)
        migrate.upgrade(node.store)
        recipient_keys.create_key(
            node,
            Principal.operator(),
            jurisdiction="DE",
            username=None,
            passphrase="passphrase for a benchmark",  # noqa: S106 (a throwaway key of a temporary node)
            strength="interactive",
        )
        rows = []
        with TestClient(create_app(settings, node)) as client:
            for language in ("en", "ar"):
                page = client.get(f"/report?lang={language}").content
                # Pages are sent uncompressed (compression beside secrets invites BREACH-style guessing).
                rows.append((f"/report ({language})", len(page), len(page)))
            assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', client.get("/report").text)
            for asset in dict.fromkeys(assets):
                raw = client.get(asset, headers={"accept-encoding": "identity"}).content
                sent = client.get(asset, headers={"accept-encoding": "gzip"})
                size = int(sent.headers.get("content-length", len(raw)))
                rows.append((asset, len(raw), size))
        node.close()
    print("| resource | bytes | bytes sent (static files gzip) |")
    print("|---|---:|---:|")
    for name, raw, sent in rows:
        print(f"| `{name}` | {raw:,} | {sent:,} |")
    english = [r for r in rows if r[0] != "/report (ar)"]
    print(
        f"| **total, English page and its assets** | {sum(r[1] for r in english):,} | {sum(r[2] for r in english):,} |"
    )


if __name__ == "__main__":
    main()
