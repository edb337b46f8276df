"""Use cases over the store: each public function opens its own transaction and records who changed what."""
