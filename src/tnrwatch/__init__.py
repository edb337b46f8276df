"""tnrwatch: document, map and share alerts on transnational repression."""

__version__ = "0.1.0"
