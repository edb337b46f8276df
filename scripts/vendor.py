"""Copy the pinned front-end files named in package.json's "vendor" key from node_modules into the tree.

Each package lands in DEST/<package>/ with its licence files, and DEST/VENDORED.md lists what is there and at which
version, so that a reviewer can check the committed copies against npm without running Node.

An entry `FROM => TO` copies FROM to the path TO inside the package's folder (Leaflet's style sheet finds its images
in `images/`); `FROM => TO (bundled)` bundles the ES module FROM with its imports into one script TO that sets a global
(esbuild, pinned in package.json): vega-interpreter ships only as an ES module, and the pages load classic scripts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
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
            written = []
            for entry in files:
                name, _, to = (part.strip() for part in entry.partition("=>"))
                bundled = to.endswith("(bundled)")
                to = to.removesuffix("(bundled)").strip() or Path(name).name  # flat unless told otherwise
                (target / to).parent.mkdir(parents=True, exist_ok=True)
                if bundled:
                    _bundle(source / name, target / to, global_name(package))
                else:
                    shutil.copy2(source / name, target / to)
                written.append(to + (" (bundled)" if bundled else ""))
            lines.append(f"| {package} | {version} | {', '.join(written)} |")
        (target_root / "VENDORED.md").write_text("\n".join(lines) + "\n")
        print(f"vendored {', '.join(sorted(packages))} into {destination}")
    return 0


def global_name(package: str) -> str:
    """vega-interpreter -> vegaInterpreter: the global a bundled module's exports land in."""
    head, *rest = package.split("-")
    return head + "".join(part.capitalize() for part in rest)


def _bundle(entry: Path, out: Path, name: str) -> None:
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"  # pinned in package.json, installed by `npm ci`
    arguments = ["--bundle", "--minify", "--format=iife", f"--global-name={name}", f"--outfile={out}"]
    subprocess.run([str(esbuild), str(entry), *arguments], check=True)  # noqa: S603 - our own tool, our own paths


if __name__ == "__main__":
    raise SystemExit(main())
