"""The live order board and the staff actions on orders.

The board polls GET /board/lanes every second with the version it shows; an unchanged board answers
204 with no body, a changed one only the lanes whose cards changed (out-of-band swaps of whole
lanes, so a card can never be duplicated). Polling survives network blips and server restarts.
"""
from flask import abort, flash, g, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..auth.forms import EmptyForm
from ..dashboard.services import start_of_day
from ..extensions import db
from ..lookups import get_or_404
from ..integrations.services import PAUSE_CHOICES, IntegrationError, pause_store, resume_store, set_auto_accept
from ..models import DeliveryOrder, DeliveryPlatform, IntegrationConfig, UserRole
from ..platforms import adapter_for
from ..settings.hours import board_opening
from ..web import redirect_back
from . import bp
from .cards import render_cards
from .services import (ACTIONS, LANES, NEW_CARDS, ActionRefused, board_rows, board_version, done_message,
                       lanes_changed_since, next_action, perform)


def _filters():
    platform = request.values.get("platform", "")
    return {"platform": platform if platform in DeliveryPlatform.__members__ else "",
            "q": (request.values.get("q") or "").strip()[:60]}


def _integrations():
    return db.session.scalars(db.select(IntegrationConfig).where(IntegrationConfig.is_enabled.is_(True))
                              .order_by(IntegrationConfig.platform)).all()


def _board_context(lanes=None, version=None, **extra):
    """What the board's templates need; `lanes` limits the cards to those lanes (None: all)."""
    filters = _filters()
    # The version is read before the cards: a change in between is then shown again by the next
    # poll, never lost behind a version that already counts it.
    version = version or board_version(g.company.id)
    rows = board_rows(g.company.id, start_of_day(g.company.timezone), platform=filters["platform"] or None,
                      search=filters["q"] or None, lanes=lanes)
    card_context = {"next_action": next_action, "actions": ACTIONS,
                    # URL patterns built once per render, not five url_for calls per card.
                    "card_urls": {"show": url_for("orders.show", order_id="ORDER"),
                                  "act": url_for("orders.act", order_id="ORDER", action="ACTION"),
                                  "board": url_for("orders.board")}}
    # Every lane's count is the whole lane; the New lane shows only its newest NEW_CARDS cards.
    lane_totals = {lane: len(lane_rows) for lane, lane_rows in rows.items()}
    if "new" in rows:
        rows["new"] = rows["new"][:NEW_CARDS]
    return {"lane_cards": render_cards(rows, card_context), "lane_totals": lane_totals, "lane_titles": LANES,
            "filters": filters,
            "version": version, "integrations": _integrations(), "opening": board_opening(g.company),
            "adapter_for": adapter_for, "pause_choices": PAUSE_CHOICES, "form": EmptyForm(),
            "platform_reasons": {platform.value: list(adapter_for(platform).reject_reasons)
                                 for platform in DeliveryPlatform}, **extra}


@bp.get("/board")
@roles_required(UserRole.USER)
def board():
    """The order board staff keep open all day."""
    return render_template("orders/board.html", **_board_context())


@bp.get("/board/lanes")
@roles_required(UserRole.USER)
def lanes():
    """What changed since the version the board shows: 204 with no body for nothing, else only the
    lanes with changed cards (all of them with `force=1`, for new filters), as out-of-band swaps."""
    since = request.args.get("since", "")
    force = request.args.get("force") == "1"
    version = board_version(g.company.id)
    if not force and since == version:
        response = make_response("", 204)
    else:
        changed = None if force else lanes_changed_since(g.company.id, since)
        response = make_response(render_template("orders/_board_update.html",
                                                 **_board_context(changed, version=version)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/board/opening")
@roles_required(UserRole.USER)
def opening_state():
    """The board's "Closed now · opens 18:00" notice, refreshed every minute (orders are never blocked)."""
    response = make_response(render_template("orders/_opening_state.html", opening=board_opening(g.company)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/orders/<order_id>/actions/<action>")
@roles_required(UserRole.USER)
def act(order_id, action):
    """Accept, reject, advance or cancel an order (from the board or the order's page)."""
    order = get_or_404(DeliveryOrder, order_id)
    if action not in ACTIONS:
        abort(404)
    reason = request.form.get("reason") or None
    try:
        order = perform(order.id, action, current_user, reason=reason,
                        preparation_minutes=request.form.get("preparation_minutes") or None)
    except ActionRefused as error:
        db.session.rollback()
        return _answer(str(error), "error")
    return _answer(done_message(order, action, reason), "success")


def _answer(message, category):
    """From the board (htmx): what changed plus a message; elsewhere: back where the person was."""
    if request.headers.get("HX-Request"):
        changed = lanes_changed_since(g.company.id, request.values.get("since", ""))
        response = make_response(render_template("orders/_board_update.html", **_board_context(
            changed, message=message, message_category=category)))
        response.headers["Cache-Control"] = "no-store"
        return response
    flash(message, category)
    return redirect_back(request.form.get("next"), url_for("orders.board"))


@bp.post("/board/integrations/<integration_id>/pause")
@roles_required(UserRole.USER)
def pause(integration_id):
    """Pause new orders on a platform for a while, or resume them."""
    integration = get_or_404(IntegrationConfig, integration_id)
    try:
        if request.form.get("minutes") == "resume":
            resume_store(integration, current_user)
            message = _("%(platform)s: taking orders again.", platform=adapter_for(integration.platform).display_name)
        else:
            pause_store(integration, request.form.get("minutes", ""), current_user)
            message = _("%(platform)s: paused for %(minutes)s minutes.",
                        platform=adapter_for(integration.platform).display_name, minutes=request.form.get("minutes"))
    except (IntegrationError, ValueError) as error:
        db.session.rollback()
        return _answer(str(error) or _("Choose one of the pause lengths offered."), "error")
    return _answer(message, "success")


@bp.post("/board/integrations/<integration_id>/auto-accept")
@roles_required(UserRole.MANAGER)
def auto_accept(integration_id):
    """Turn a platform's auto-accept on or off from the board."""
    integration = get_or_404(IntegrationConfig, integration_id)
    enabled = request.form.get("enabled") == "1"
    set_auto_accept(integration, enabled)
    name = adapter_for(integration.platform).display_name
    return _answer(_("%(platform)s: new orders are accepted automatically.", platform=name) if enabled
                   else _("%(platform)s: new orders wait for someone to accept them.", platform=name), "success")
