"""Fill one catalogue from a JSON table {msgid: msgstr}, marking each entry as a machine translation to review.

    .venv/bin/python scripts/apply_translations.py ar /tmp/ar.json

Entries already carrying the comment "reviewed" are left alone; unknown msgids in the table are reported.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
MACHINE = "machine translation: review"


def main() -> int:
    language, table_path = sys.argv[1], Path(sys.argv[2])
    table: dict[str, str] = json.loads(table_path.read_text(encoding="utf-8"))
    path = ROOT / "src/tnrwatch/web/translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    known = {message.id for message in catalog if message.id}
    for unknown in sorted(set(table) - known):
        print(f"not in the catalogue: {unknown[:60]!r}", file=sys.stderr)
    for message in catalog:
        if not message.id or "reviewed" in message.user_comments:
            continue
        if message.id in table:
            message.string = table[message.id]
            message.flags.discard("fuzzy")
            if MACHINE not in message.user_comments:
                message.user_comments.append(MACHINE)
    catalog.language_team = "tnrwatch (machine translation, awaiting review)"
    catalog.locale = Locale.parse(language)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=120)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"{language}: {len(known) - len(missing)} of {len(known)} translated", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
