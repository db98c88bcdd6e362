"""Full-text search: the only package that knows Whoosh.

The rest of the app hands it CaseDocs and SearchRequests and gets back ids in rank order,
facet counts and spelling help; it never sees a Whoosh object. Operations, all on
SearchIndex: writing() / upsert / delete, search, more_like, rebuild, check.
"""

from .documents import FACETS, SORTS, CaseDoc, CheckReport, FacetCount, Hit, SearchPage, SearchRequest
from .engine import MAX_BATCH_DOCS, SearchIndex, SearchUnavailable, is_lock_error
from .synonyms import SYNONYMS_FILE, SynonymGroup, read_groups
from .thesaurus import Concept, ThesaurusError, parse_concepts

__all__ = [
    "FACETS",
    "MAX_BATCH_DOCS",
    "SORTS",
    "SYNONYMS_FILE",
    "CaseDoc",
    "CheckReport",
    "Concept",
    "FacetCount",
    "Hit",
    "SearchIndex",
    "SearchPage",
    "SearchRequest",
    "SearchUnavailable",
    "SynonymGroup",
    "ThesaurusError",
    "is_lock_error",
    "parse_concepts",
    "read_groups",
]
