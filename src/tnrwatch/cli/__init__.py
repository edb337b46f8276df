"""The `tnrwatch` command line (Typer + Rich)."""
