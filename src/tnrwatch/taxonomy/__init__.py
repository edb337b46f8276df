"""The common definition of transnational repression, as versioned data (YAML) with a loader that checks
it."""

from tnrwatch.taxonomy.loader import DEFAULT_DIRECTORY, TaxonomyError, default_taxonomy, load_taxonomy
from tnrwatch.taxonomy.model import Crosswalk, Taxonomy, Term, Vocabulary

__all__ = [
    "DEFAULT_DIRECTORY",
    "Crosswalk",
    "Taxonomy",
    "TaxonomyError",
    "Term",
    "Vocabulary",
    "default_taxonomy",
    "load_taxonomy",
]
