"""The TAXII 2.1 server (grown by the alert-sharing work)."""
