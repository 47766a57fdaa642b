"""Contains-searches through an index, without the pg_trgm extension (the embedded
PostgreSQL of the tests and CI has none): ``public.trigrams(text)`` is an IMMUTABLE
SQL function, made by customers' migration 0002 in the public schema (never in a
customer's, whose copy from the template refuses functions), returning a text's
distinct three-character pieces. A GIN index over ``public.trigrams(column)`` with
PostgreSQL's own array operators finds the rows holding every piece of the search
(``@>``); the caller keeps the exact LIKE beside it, so the answer is the same as the
LIKE's alone. Searches shorter than three characters have no pieces: the LIKE alone.

A text containing the search holds every one of its pieces, so any of them narrow
the rows correctly; ``covering_trigrams`` asks for the fewest that still cover each
character of the search, every third piece and the last: each piece asked is one
more list of rows for the index to read and intersect (an address's common pieces,
``nor``, ``000``, are read for a tenth of the learners each)."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.db.models import Func, TextField

TRIGRAM = 3

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION public.trigrams(text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT coalesce(array_agg(DISTINCT substr($1, i, 3)), '{}') FROM generate_series(1, length($1) - 2) AS i $$
"""
DROP_FUNCTION = "DROP FUNCTION IF EXISTS public.trigrams(text)"


def covering_trigrams(text: str) -> list[str]:
    """Pieces of ``text`` (three characters or more) that cover every character of
    it: those starting at every third character, and the last."""
    pieces = [text[i : i + TRIGRAM] for i in range(0, len(text) - TRIGRAM + 1, TRIGRAM)]
    return list(dict.fromkeys([*pieces, text[-TRIGRAM:]]))


class Trigrams(Func):
    """public.trigrams(expression): as written in the indexes, so the planner
    matches them."""

    function = "public.trigrams"
    arity = 1
    output_field = ArrayField(TextField())


class HasAllTrigrams(DataContains):
    """``trigrams(column) @> trigrams(search)``: a lookup used as a condition."""
