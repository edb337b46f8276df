"""The public zone: pages anyone may open. It never imports staff code and never reads a staff credential."""
