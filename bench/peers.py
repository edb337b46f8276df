"""The peers' own virtual environment: Datasette and DuckDB with its SQLite scanner, pinned, apart from tnrwatch's.

DuckDB cannot download extensions here (`INSTALL sqlite` needs the network), so the scanner comes from PyPI's
`duckdb-extension-sqlite-scanner`, whose version must equal DuckDB's (duckdb 2.x exists but has no matching scanner);
DuckDB loads it by path (`LOAD '.../sqlite_scanner.duckdb_extension'`), without installing it into ~/.duckdb.
The venv is made once under bench/out/ and reused while its pins match.

    python bench/peers.py          # create or check the venv, print the versions
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import venv
from pathlib import Path

from common import OUT

PEERS_VENV = OUT / "peers-venv"
PINS = ("datasette==0.65.5", "duckdb==1.5.5", "duckdb-extension-sqlite-scanner==1.5.5")
_MARKER = PEERS_VENV / ".pins"


def peer_python() -> Path:
    return PEERS_VENV / "bin" / "python"


def datasette_executable() -> Path:
    return PEERS_VENV / "bin" / "datasette"


def ensure_peers_venv() -> Path:
    """Create the peers' venv unless one with the same pins exists; return its python."""
    wanted = "\n".join(PINS)
    if _MARKER.exists() and _MARKER.read_text() == wanted and peer_python().exists():
        return peer_python()
    print(f"creating the peers' venv in {PEERS_VENV} ({', '.join(PINS)})", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(PEERS_VENV)
    subprocess.run([str(peer_python()), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(peer_python()), "-m", "pip", "install", "--quiet", *PINS], check=True)
    _MARKER.write_text(wanted)
    return peer_python()


def peer_versions() -> dict[str, str]:
    """The installed versions, as the peers' venv reports them (and a check that the scanner loads)."""
    script = (
        "import json, sqlite3, datasette.version, duckdb, duckdb_extension_sqlite_scanner as scanner, pathlib\n"
        "path = pathlib.Path(scanner.__file__).parent / 'extensions' / f'v{duckdb.__version__}'\n"
        "con = duckdb.connect()\n"
        "con.execute(f\"LOAD '{path / 'sqlite_scanner.duckdb_extension'}'\")\n"
        "print(json.dumps({'datasette': datasette.version.__version__, 'duckdb': duckdb.__version__,"
        " 'sqlite (peers venv)': sqlite3.sqlite_version}))\n"
    )
    output = subprocess.run([str(peer_python()), "-c", script], check=True, capture_output=True, text=True)
    return dict(json.loads(output.stdout))


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    ensure_peers_venv()
    for name, version in peer_versions().items():
        print(f"{name}: {version}")


if __name__ == "__main__":
    main()
