"""What every command shares: the settings, the consoles, and turning tnrwatch errors into exit codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from rich.console import Console
from rich.text import Text

from tnrwatch.errors import FieldError, InvalidInputError, TnrwatchError
from tnrwatch.services.node import Node
from tnrwatch.settings import Settings

T = TypeVar("T")

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1

out = Console(soft_wrap=True)  # results go to stdout, so they can be piped
err = Console(stderr=True, soft_wrap=True)  # progress and errors go to stderr


def load_settings() -> Settings:
    return Settings()


def print_field_errors(errors: tuple[FieldError, ...], limit: int = 200) -> None:
    for error in errors[:limit]:
        err.print(Text.assemble("  ", (error.where(), "bold"), ": ", error.msg), highlight=False)
    if len(errors) > limit:
        err.print(f"  ... and {len(errors) - limit} more")


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn tnrwatch errors into a message on stderr and an exit code: 2 for bad input, 1 otherwise."""
    try:
        yield
    except TnrwatchError as exc:
        print_error(exc.message)
        print_field_errors(exc.errors)
        bad_input = isinstance(exc, InvalidInputError) or exc.status < 500
        raise typer.Exit(EXIT_BAD_INPUT if bad_input else EXIT_FAILURE) from None


def print_error(message: str) -> None:
    """Print `message` as given: never parsed as Rich markup, since it may quote user input."""
    err.print(Text.assemble(("error: ", "bold red"), message), highlight=False)


def run_on_node(action: Callable[[Node], T]) -> T:
    """Open the node from the settings, run `action` on it, close it; tnrwatch errors become exit codes."""
    with handle_errors():
        node = Node.open(load_settings())
        try:
            return action(node)
        finally:
            node.close()
