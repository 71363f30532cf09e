"""The mapping grid's cell as HTML, built in Python.

The grid shows up to 500 products × the enabled platforms (1,500 cells for three); as a Jinja
macro each cell cost ~0.15 ms, the page ~250 ms. Here a cell is one f-string with every value
escaped (markupsafe), ~15 µs. The single-cell response after a save
uses the same function, so there is one definition of a cell. What the cells share (labels,
URLs, the CSRF token) is prepared once per page by `parts`.
"""
from decimal import Decimal

from babel.numbers import get_currency_precision
from flask import url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from ..i18n import PLATFORM_LABELS, currency_symbol, localized

_MARKER = "00000000-0000-0000-0000-000000000000"

_UNMAP = ('<form method="post" action="{unmap}" class="cell-unmap" hx-post="{unmap}" hx-target="closest td" '
          'hx-swap="outerHTML" hx-confirm="{confirm}"><input type="hidden" name="csrf_token" value="{token}">'
          '<button type="submit" class="linkish small" title="{t_unmap_title}">{t_unmap}</button></form>')


def _platform_label(integration):
    return str(PLATFORM_LABELS.get(integration.platform.value, integration.platform.value))


def parts(company, integrations):
    """What every cell of a page shares, translated and escaped once."""
    quantum = Decimal(1).scaleb(-get_currency_precision(company.currency))
    shared = {
        "token": escape(generate_csrf()), "currency": escape(currency_symbol(company.currency)), "quantum": quantum,
        "save": {}, "unmap": {}, "id_label": {}, "price_label": {}, "offered_label": {}, "confirm": {},
        "sync": {"completed": escape(_("Synced")), "failed": escape(_("Sync failed")),
                 "in_progress": escape(_("Syncing")), "pending": escape(_("Not synced")),
                 "cancelled": escape(_("Not synced"))},
    }
    for key, text in (("t_platform_id", _("platform id")), ("t_empty_price", _("Empty: the catalog price")),
                      ("t_on", _("on")), ("t_save", _("Save")), ("t_saving", _("Saving…")),
                      ("t_overrides", _("Overrides the catalog price")), ("t_catalog_price", _("catalog price")),
                      ("t_saved", _("Saved")), ("t_unmap", _("Unmap")), ("t_unmap_title", _("Remove this mapping")),
                      ("t_not_mapped", _("Not mapped"))):
        shared[key] = escape(text)
    for integration in integrations:
        label = _platform_label(integration)
        shared["save"][integration.id] = url_for("menu.save_cell", product_id=_MARKER, integration_id=integration.id)
        shared["unmap"][integration.id] = url_for("menu.unmap", product_id=_MARKER, integration_id=integration.id)
        shared["id_label"][integration.id] = escape(_("%(platform)s id", platform=label))
        shared["price_label"][integration.id] = escape(_("Price on %(platform)s", platform=label))
        shared["offered_label"][integration.id] = escape(_("Offered on %(platform)s", platform=label))
        shared["confirm"][integration.id] = _("Stop selling %(name)s on %(platform)s?", name="\x00", platform=label)
    return shared


def amount(value, shared):
    return "" if value is None else str(Decimal(value).quantize(shared["quantum"]))


def render(cell, shared):
    """One cell's <td> (see _CELL)."""
    mapping, errors = cell.mapping, cell.errors
    product_id, integration_id = str(cell.product.id), cell.integration.id
    key = f"{product_id}-{integration_id}"
    if errors:
        status = "".join(
            f'<div class="errors small" id="err-{"pid" if name == "platform_product_id" else "price"}-{key}" '
            f'role="alert">{escape(error)}</div>' for name, error in errors.items())
    elif mapping is not None:
        if mapping.price_overridden:
            price_note = (f'<span class="price-note" title="{shared["t_overrides"]}">{shared["currency"]} '
                          f'{amount(mapping.product_price, shared)}</span>')
        else:
            price_note = f'<span class="price-note muted">{shared["t_catalog_price"]}</span>'
        sync_status = mapping.sync_status.value
        title = f' title="{escape(" · ".join(mapping.sync_errors))}"' if mapping.sync_errors else ""
        status = (price_note + f'<span class="sync sync-{sync_status}"{title}>{shared["sync"][sync_status]}</span>'
                  + (f'<span class="saved-note" role="status">{shared["t_saved"]}</span>' if cell.saved else "")
                  + _UNMAP.format(unmap=shared["unmap"][integration_id].replace(_MARKER, product_id),
                                  confirm=escape(shared["confirm"][integration_id].replace(
                                      "\x00", localized(cell.product))),
                                  token=shared["token"], t_unmap=shared["t_unmap"],
                                  t_unmap_title=shared["t_unmap_title"]))
    else:
        status = f'<span class="muted small">{shared["t_not_mapped"]}</span>'
    classes = ((" is-unmapped" if mapping is None else "") + (" has-error" if errors else "")
               + (" just-saved" if cell.saved else ""))
    price = cell.value("price")
    price = escape(price) if isinstance(price, str) else amount(price, shared)
    save = shared["save"][integration_id].replace(_MARKER, product_id)
    preserve = "" if cell.reset else " hx-preserve"
    pid_error = "platform_product_id" in errors
    price_error = "price" in errors
    pid_described = f' aria-describedby="err-pid-{key}"' if pid_error else ""
    price_described = f' aria-describedby="err-price-{key}"' if price_error else ""
    checked = " checked" if cell.value("is_available") else ""
    platform_id = escape(cell.value("platform_product_id"))
    return Markup(
        f'<td id="cell-{key}" class="map-cell{classes}">'
        f'<form method="post" action="{save}" hx-post="{save}" hx-trigger="change, submit" hx-target="closest td" '
        f'hx-swap="outerHTML" hx-sync="this:replace" hx-indicator="#busy-{key}">'
        f'<input type="hidden" name="csrf_token" value="{shared["token"]}">'
        f'<label class="sr-only" for="pid-{key}">{shared["id_label"][integration_id]} · '
        f'{escape(localized(cell.product))}</label>'
        f'<input type="text" id="pid-{key}" name="platform_product_id" value="{platform_id}" '
        f'dir="ltr" maxlength="100" placeholder="{shared["t_platform_id"]}" class="cell-id" autocomplete="off" '
        f'aria-invalid="{"true" if pid_error else "false"}"'
        f'{pid_described}{preserve}>'
        f'<label class="sr-only" for="price-{key}">{shared["price_label"][integration_id]}</label>'
        f'<input type="text" id="price-{key}" name="price" value="{price}" dir="ltr" inputmode="decimal" '
        f'placeholder="{amount(cell.product.price, shared)}" title="{shared["t_empty_price"]}" class="cell-price" '
        f'autocomplete="off" aria-invalid="{"true" if price_error else "false"}"'
        f'{price_described}{preserve}>'
        f'<label class="cell-avail"><input type="checkbox" id="avail-{key}" name="is_available" value="1"'
        f'{checked}{preserve}><span class="sr-only">'
        f'{shared["offered_label"][integration_id]}</span><span aria-hidden="true">{shared["t_on"]}</span></label>'
        f'<noscript><button type="submit" class="button small">{shared["t_save"]}</button></noscript></form>'
        f'<div class="cell-status"><span id="busy-{key}" class="loading-indicator small" role="status">'
        f'<span class="spinner" aria-hidden="true"></span><span class="loading-text">{shared["t_saving"]}</span></span>'
        f'{status}</div></td>')
