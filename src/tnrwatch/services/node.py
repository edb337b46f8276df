"""The node: everything a use case needs (settings, store, taxonomy, identity vault), opened once per process."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tnrwatch.crypto.vault import Vault
from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.services.changes import SEALER_INFO, Sealer
from tnrwatch.services.screening_cache import ScreeningCache
from tnrwatch.settings import Settings
from tnrwatch.store.analytics import Analytics
from tnrwatch.store.db import Store
from tnrwatch.store.shred_keys import ShredKeys
from tnrwatch.taxonomy import Taxonomy, default_taxonomy

_OPENING = threading.Lock()
COPY_DIALECT = "duckdb"  # store/analytics.py


@dataclass
class Node:
    settings: Settings
    store: Store
    taxonomy: Taxonomy
    _vault: Vault | None = field(default=None, repr=False)
    _shred_keys: ShredKeys | None = field(default=None, repr=False)
    _analytics: Analytics | None = field(default=None, repr=False)
    audit_sealer: Sealer = field(init=False, repr=False)
    screening_cache: ScreeningCache = field(init=False, repr=False)  # services/screening_cache.py

    def __post_init__(self) -> None:
        # The audit log seals its head from inside any write transaction (services.changes): give them the key.
        self.audit_sealer = Sealer(
            self.settings.resolved_key_dir, dt.timedelta(minutes=self.settings.audit_seal_minutes)
        )
        self.store.write_session_info[SEALER_INFO] = self.audit_sealer
        self.screening_cache = ScreeningCache.for_minutes(self.settings.screening_cache_minutes)

    @classmethod
    def open(cls, settings: Settings, taxonomy: Taxonomy | None = None) -> Node:
        return cls(settings=settings, store=Store.from_settings(settings), taxonomy=taxonomy or default_taxonomy())

    @property
    def vault(self) -> Vault:
        """The identity vault, opened on first use (creating the first key if the key directory is empty)."""
        if self._vault is None:
            self._vault = Vault.open(self.settings.resolved_key_dir)
        return self._vault

    @property
    def shred_keys(self) -> ShredKeys:
        """The reports' shredding keys (crypto/shred.py), in the key directory, opened on first use."""
        with _OPENING:
            if self._shred_keys is None:
                self._shred_keys = ShredKeys(
                    self.settings.resolved_key_dir, synchronous=self.settings.sqlite_synchronous
                )
        return self._shred_keys

    @property
    def analytics(self) -> Analytics | None:
        """The map's columnar copy of the incident tables (store/analytics.py), made on first use; None when the
        settings turn it off."""
        if not self.settings.map_copy:
            return None
        with _OPENING:
            if self._analytics is None:
                self._analytics = Analytics(self.store, self.taxonomy)
        return self._analytics

    @contextmanager
    def counting_session(self, flt: IncidentFilter, sort: str = "-date") -> Iterator[tuple[Session, str]]:
        """Where to find and count the incidents matching `flt`: the map's columnar copy (store/analytics.py), which
        has the store's table and column names, so that the same expressions and visibility rule run there; the
        database itself for full-text filters (its index lives there), for sorts the copy lacks (created, updated),
        when the copy is off, and while it is first being built. Yields (session, dialect for the expressions)."""
        copy = self.analytics
        if copy is not None and not flt.q and sort.lstrip("-") == "date" and not copy.building:
            with copy.reading() as session:
                yield session, COPY_DIALECT
        else:
            with self.store.reading() as session:
                yield session, self.store.dialect

    def close(self) -> None:
        self.screening_cache.clear()
        if self._analytics is not None:
            self._analytics.close()
        if self._shred_keys is not None:
            self._shred_keys.close()
        self.store.dispose()
