"""The web: the public zone, the staff zone, the JSON API and (later) the TAXII server, built by `app.create_app`."""
