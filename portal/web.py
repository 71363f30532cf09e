"""Web helpers every area shares: a page or its htmx fragment, safe "next" addresses, query
parameters cleaned once for every request, and safe page numbers.

A NUL in a search box made PostgreSQL refuse the query (500, or a CSV export cut off after its 200),
and `?page=99999999999999999999` overflowed the OFFSET. Here, before any view runs, every query
parameter loses its control characters and `page` becomes a number within MAX_PAGE; views (and
`db.paginate`, which reads `page` itself) see only clean values.
"""
import re

from urllib.parse import urlsplit

from flask import has_request_context, make_response, redirect, render_template, request, stream_with_context
from flask_login import current_user
from werkzeug.datastructures import ImmutableMultiDict

from .extensions import db
from .models import AuditLog

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


# Form text keeps tabs and line breaks (notes, addresses); the other controls, NUL first, cannot be stored.
_FORM_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def clean_form():
    """before_request: form fields lose the control characters PostgreSQL text cannot hold (NUL), so a
    pasted NUL is not a 500. Webhook bodies are left alone: they are stored byte for byte."""
    if request.method != "POST" or request.mimetype not in _FORM_TYPES or request.blueprint == "webhooks":
        return
    form = request.form
    pairs = list(form.items(multi=True))
    cleaned = [(key, _FORM_CONTROL.sub("", value)) for key, value in pairs]
    if cleaned != pairs:
        request.form = ImmutableMultiDict(cleaned)


def page_or_fragment(page_template, fragment_template, status=200, **context):
    """The whole page, or only the fragment an htmx request swaps in.

    Boosted navigation and history restores need the whole page. Every answer varies on HX-Request
    (`vary_on_htmx`), so no cache hands a fragment to a page load.
    """
    fragment = request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    return make_response(render_template(fragment_template if fragment else page_template, **context), status)


def client_address():
    """The address a request came from (ProxyFix has made it the client's behind a proxy); None outside one."""
    return request.remote_addr if has_request_context() else None


def safe_next(target, default=None):
    """`target` when it is a path on this site, else `default`: never another host.

    "//evil.test", "https://evil.test" and "/\\evil.test" (browsers read a backslash as a slash) are refused.
    """
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def redirect_back(target, default):
    """Redirect to a safe `next` (a form's hidden field), else to `default`."""
    return redirect(safe_next(target, default))


def record_export(filename):
    """An "EXPORT" audit row naming what the signed-in user downloaded (committed before streaming)."""
    if not getattr(current_user, "is_authenticated", False):
        return
    db.session.add(AuditLog(table_name="exports", operation="EXPORT", company_id=current_user.company_id,
                            user_id=current_user.id, new_values={"file": filename, "path": request.path}))
    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False  # the stream still reads g.company
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def csv_download(body, filename):
    """A CSV attachment: `body` is the text or an iterable of chunks (streamed within the request).

    Every download is audited: an "EXPORT" row with the file name and the page it came from."""
    record_export(filename)
    content = body if isinstance(body, (str, bytes)) else stream_with_context(body)
    response = make_response(content)
    response.content_type = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def vary_on_htmx(response):
    """after_request: pages and fragments share URLs, so every answer varies on HX-Request."""
    response.vary.add("HX-Request")
    return response


def register(app):
    """Hook the shared request handling into the app (called by create_app)."""
    app.before_request(clean_query_args)
    app.before_request(clean_form)
    app.after_request(vary_on_htmx)
