"""The staff zone: officers' and analysts' pages (grown by the focal-point work)."""
