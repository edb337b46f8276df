"""Copy the pinned front-end files named in package.json's "vendor" key from node_modules into the tree.

Each package lands in DEST/<package>/ with its licence files, and DEST/VENDORED.md lists what is there and at which
version, so that a reviewer can check the committed copies against npm without running Node.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    manifest = json.loads((ROOT / "package.json").read_text())
    for destination, packages in manifest["vendor"].items():
        target_root = ROOT / destination
        lines = [
            "# Vendored front-end files",
            "",
            "Copied by `make vendor` from npm; do not edit.",
            "",
            "| package | version | files |",
            "|---|---|---|",
        ]
        for package, files in sorted(packages.items()):
            source = ROOT / "node_modules" / package
            if not source.is_dir():
                print(f"error: {source} is missing; run `npm ci` first", file=sys.stderr)
                return 1
            version = json.loads((source / "package.json").read_text())["version"]
            target = target_root / package
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for name in files:
                shutil.copy2(source / name, target / Path(name).name)  # flat: one folder per package
            lines.append(f"| {package} | {version} | {', '.join(Path(name).name for name in files)} |")
        (target_root / "VENDORED.md").write_text("\n".join(lines) + "\n")
        print(f"vendored {', '.join(sorted(packages))} into {destination}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
