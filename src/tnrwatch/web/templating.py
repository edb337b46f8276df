"""The Jinja2 environment shared by every page (autoescaping on)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

import tnrwatch

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["tnrwatch_version"] = tnrwatch.__version__
