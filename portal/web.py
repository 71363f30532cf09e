"""Web helpers every area shares: query parameters cleaned once for every request, and safe page numbers.

A NUL in a search box made PostgreSQL refuse the query (500, or a CSV export cut off after its 200),
and `?page=99999999999999999999` overflowed the OFFSET. Here, before any view runs, every query
parameter loses its control characters and `page` becomes a number within MAX_PAGE; views (and
`db.paginate`, which reads `page` itself) see only clean values.
"""
import re

from flask import request
from werkzeug.datastructures import ImmutableMultiDict

MAX_PAGE = 10_000  # far beyond any list the portal shows, far below a bigint OFFSET
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0 and C1 controls, NUL included
PAGE_PARAMETERS = ("page",)


def clean_arg(value):
    """`value` without control characters (no filter or search means one)."""
    return _CONTROL.sub("", value)


def page_number(args=None, name="page", maximum=MAX_PAGE):
    """The page a list was asked for: a whole number from 1 to `maximum`; 1 when missing or not a number."""
    raw = (request.args if args is None else args).get(name, "")
    try:
        number = int(str(raw).strip()[:20])
    except ValueError:
        return 1
    return max(1, min(number, maximum))


def clean_query_args():
    """before_request: replace request.args by its cleaned copy (only when something needs cleaning)."""
    args = request.args
    if not args:
        return
    pairs = list(args.items(multi=True))
    cleaned = [(clean_arg(key), clean_arg(value)) for key, value in pairs]
    cleaned = [(key, str(page_number({key: value})) if key in PAGE_PARAMETERS else value) for key, value in cleaned]
    if cleaned != pairs:
        request.args = ImmutableMultiDict(cleaned)


def register(app):
    """Hook the shared request cleaning into the app (called by create_app)."""
    app.before_request(clean_query_args)
