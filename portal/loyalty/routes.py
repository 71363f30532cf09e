"""Loyalty pages: the program dashboard and rules, tiers, customers, and the loyalty panel on an order.

Managers run the program and the customers; staff look customers up and redeem on an order.
"""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.decorators import roles_required
from ..auth.forms import EmptyForm
from ..extensions import db
from ..i18n import localized
from ..lookups import get_or_404
from ..web import csv_download, page_or_fragment
from ..models import (CustomerLoyalty, DeliveryOrder, LoyaltyProgram, LoyaltyProgramType, LoyaltyTier,
                      LoyaltyTransaction, OrderStatus, UserRole)
from ..messaging.queries import contact_for_phone as whatsapp_contact_for
from . import bp, ledger, programs, queries, services
from .forms import (PROGRAM_TYPE_LABELS, AdjustForm, MemberForm, ProgramForm, RedeemForm, ReferrerForm, RefundForm,
                    TierForm)
from .services import LoyaltyError


def loyalty_type_label(value):
    """'TIER_BASED' -> 'Tiers'."""
    key = getattr(value, "value", value)
    return PROGRAM_TYPE_LABELS.get(key, key)


def tier_label(tier):
    """A tier's name in the page's language."""
    if tier is None:
        return _("No tier")
    return localized(tier)


def format_date_short(value):
    """'3 Mar' in the page's language."""
    from flask_babel import format_date
    return format_date(value, "d MMM")


def _program_or_404(program_id):
    return get_or_404(LoyaltyProgram, program_id)


def _member_or_404(member_id):
    return get_or_404(CustomerLoyalty, member_id)


# --- The program --------------------------------------------------------------------------------------

@bp.get("/")
@roles_required(UserRole.MANAGER)
def index():
    """The program at a glance: members, activity, points outstanding and their value, tiers."""
    program = programs.active_program()
    every_program = programs.all_programs()
    if program is None:
        return render_template("loyalty/index.html", program=None, programs=every_program, action_form=EmptyForm())
    tiers = programs.program_tiers(program)
    stats = queries.dashboard(program, g.company)
    chart = {"labels": [week.isoformat() for week, *_ in stats.weeks],
             "earned": [earned for _, earned, _, _ in stats.weeks],
             "redeemed": [redeemed for _, _, redeemed, _ in stats.weeks],
             "expired": [expired for *_, expired in stats.weeks],
             "names": {"earned": _("Points earned"), "redeemed": _("Points redeemed"), "expired": _("Points expired")}}
    return render_template("loyalty/index.html", program=program, programs=every_program, tiers=tiers, stats=stats,
                           chart_json=json.dumps(chart, ensure_ascii=False).replace("</", "<\\/"),
                           largest=max((count for _, count in stats.tiers), default=0),
                           summary=programs.program_summary(program, tiers, g.company.currency),
                           action_form=EmptyForm())


@bp.get("/program/new")
@roles_required(UserRole.MANAGER)
def new_program():
    """The form for a company's (first or next) program."""
    form = ProgramForm()
    if programs.active_program() is not None:
        form.activate.data = False
    return render_template("loyalty/program_form.html", form=form, program=None, active=programs.active_program(),
                           summary=_preview(form))


@bp.post("/program")
@roles_required(UserRole.MANAGER)
def create_program():
    """Create a program, or show the form again with what was typed and why it was refused."""
    form = ProgramForm()
    if form.validate_on_submit():
        try:
            program = programs.save_program(None, form.values(), activate=form.activate.data)
        except LoyaltyError as error:
            flash(str(error), "error")
        else:
            flash(_("“%(name)s” is set up.", name=program.name), "success")
            return redirect(url_for("loyalty.index"))
    return render_template("loyalty/program_form.html", form=form, program=None, active=programs.active_program(),
                           summary=_preview(form)), 422


@bp.get("/program/<program_id>/edit")
@roles_required(UserRole.MANAGER)
def edit_program(program_id):
    """The form to change a program's rules."""
    program = _program_or_404(program_id)
    form = ProgramForm(obj=program)
    form.program_type.data = program.program_type.value
    form.activate.data = program.is_active
    return render_template("loyalty/program_form.html", form=form, program=program, active=programs.active_program(),
                           summary=_preview(form))


@bp.post("/program/<program_id>")
@roles_required(UserRole.MANAGER)
def update_program(program_id):
    """Save a program's rules (activating it ends the one that was active)."""
    program = _program_or_404(program_id)
    form = ProgramForm()
    if form.validate_on_submit():
        try:
            programs.save_program(program, form.values(), activate=form.activate.data)
            if not form.activate.data and program.is_active:
                programs.deactivate_program(program)
        except LoyaltyError as error:
            flash(str(error), "error")
        else:
            flash(_("Saved the rules of “%(name)s”.", name=program.name), "success")
            return redirect(url_for("loyalty.index"))
    return render_template("loyalty/program_form.html", form=form, program=program, active=programs.active_program(),
                           summary=_preview(form)), 422


@bp.post("/program/preview")
@roles_required(UserRole.MANAGER)
def preview_program():
    """The plain-language summary of the rules being typed (an htmx fragment)."""
    form = ProgramForm()
    form.validate()
    return render_template("loyalty/_summary.html", summary=_preview(form))


def _preview(form):
    """Sentences for what the form says now, or None while a rule is not valid yet."""
    values = {name: getattr(form, name).data for name in (
        "program_type", "points_per_currency_unit", "point_value", "min_redemption_points",
        "max_redemption_percentage", "expiration_days", "tier_bonus_multiplier", "referral_bonus")}
    if any(getattr(form, name).errors for name in values) or values["points_per_currency_unit"] is None \
            or not values["point_value"] or values["max_redemption_percentage"] is None:
        return None
    draft = LoyaltyProgram(**{**values, "program_type": LoyaltyProgramType(values["program_type"] or "POINTS_BASED"),
                              "tier_bonus_multiplier": values["tier_bonus_multiplier"] or 0,
                              "min_redemption_points": values["min_redemption_points"] or 0,
                              "referral_bonus": values["referral_bonus"] or 0})  # never added to the session
    program = programs.active_program()
    tiers = programs.program_tiers(program) if program is not None else []
    return programs.program_summary(draft, tiers, g.company.currency)


@bp.post("/program/<program_id>/activate")
@roles_required(UserRole.MANAGER)
def activate_program(program_id):
    """Make this the active program; members move to it with their points."""
    program = _program_or_404(program_id)
    try:
        programs.activate_program(program)
        db.session.commit()
    except LoyaltyError as error:
        flash(str(error), "error")
    else:
        flash(_("“%(name)s” is now the active program.", name=program.name), "success")
    return redirect(url_for("loyalty.index"))


@bp.post("/program/<program_id>/deactivate")
@roles_required(UserRole.MANAGER)
def deactivate_program(program_id):
    """Pause the program: nothing is earned or redeemed; balances stay."""
    program = _program_or_404(program_id)
    programs.deactivate_program(program)
    flash(_("“%(name)s” is paused. Customers keep their points.", name=program.name), "success")
    return redirect(url_for("loyalty.index"))


# --- Tiers -------------------------------------------------------------------------------------------

@bp.get("/program/<program_id>/tiers/new")
@roles_required(UserRole.MANAGER)
def new_tier(program_id):
    """The form for a new tier."""
    program = _program_or_404(program_id)
    return render_template("loyalty/tier_form.html", form=TierForm(), program=program, tier=None)


@bp.post("/program/<program_id>/tiers")
@roles_required(UserRole.MANAGER)
def create_tier(program_id):
    """Add a tier; members move into it at once if they qualify."""
    program = _program_or_404(program_id)
    form = TierForm()
    if form.validate_on_submit():
        try:
            tier = programs.save_tier(program, None, form.values())
        except LoyaltyError as error:
            getattr(form, error.field or "name").errors.append(str(error))
        else:
            flash(_("Added the tier %(name)s.", name=tier.name), "success")
            return redirect(url_for("loyalty.index") + "#tiers")
    return render_template("loyalty/tier_form.html", form=form, program=program, tier=None), 422


@bp.get("/tiers/<tier_id>/edit")
@roles_required(UserRole.MANAGER)
def edit_tier(tier_id):
    """The form to change a tier."""
    tier = get_or_404(LoyaltyTier, tier_id)
    return render_template("loyalty/tier_form.html", form=TierForm(obj=tier), tier=tier,
                           program=db.session.get(LoyaltyProgram, tier.loyalty_program_id))


@bp.post("/tiers/<tier_id>")
@roles_required(UserRole.MANAGER)
def update_tier(tier_id):
    """Save a tier; members move up or down to match."""
    tier = get_or_404(LoyaltyTier, tier_id)
    program = db.session.get(LoyaltyProgram, tier.loyalty_program_id)
    form = TierForm()
    if form.validate_on_submit():
        try:
            programs.save_tier(program, tier, form.values())
        except LoyaltyError as error:
            tier = get_or_404(LoyaltyTier, tier_id)
            getattr(form, error.field or "name").errors.append(str(error))
        else:
            flash(_("Saved the tier %(name)s.", name=tier.name), "success")
            return redirect(url_for("loyalty.index") + "#tiers")
    return render_template("loyalty/tier_form.html", form=form, program=program, tier=tier), 422


@bp.post("/tiers/<tier_id>/delete")
@roles_required(UserRole.MANAGER)
def delete_tier(tier_id):
    """Remove a tier; its members move to the tier they now qualify for."""
    tier = get_or_404(LoyaltyTier, tier_id)
    name = tier.name
    programs.delete_tier(db.session.get(LoyaltyProgram, tier.loyalty_program_id), tier)
    flash(_("Removed the tier %(name)s.", name=name), "success")
    return redirect(url_for("loyalty.index") + "#tiers")


# --- Customers ---------------------------------------------------------------------------------------

def _customer_filters():
    search = request.args.get("q", "").strip()[:100]
    tier = request.args.get("tier", "")
    program = programs.active_program()
    tiers = programs.program_tiers(program)
    if tier not in {"", "none"} | {str(t.id) for t in tiers}:
        tier = ""
    sort = request.args.get("sort", "recent")
    if sort not in queries.SORTS:
        sort = "recent"
    return search, tier, sort, program, tiers


@bp.get("/customers")
@roles_required(UserRole.MANAGER)
def customers():
    """Members: search by phone (any format) or name, filter by tier, pages of 25."""
    search, tier, sort, program, tiers = _customer_filters()
    page = db.paginate(queries.search_members(search, tier or None, sort), per_page=25, error_out=False)
    any_members = bool(page.items) or db.session.scalar(
        select(func.count()).select_from(CustomerLoyalty).where(CustomerLoyalty.company_id == g.company.id)) > 0
    response = page_or_fragment("loyalty/customers.html", "loyalty/_customer_results.html", page=page, search=search,
                                tier=tier, sort=sort, tiers=tiers, program=program, any_members=any_members,
                                tier_by_id={t.id: t for t in tiers})
    if request.htmx:
        args = {key: value for key, value in (("q", search), ("tier", tier), ("sort", sort if sort != "recent" else ""))
                if value}
        response.headers["HX-Push-Url"] = url_for("loyalty.customers", **args)
    return response


@bp.get("/customers/export.csv")
@roles_required(UserRole.MANAGER)
def export_customers():
    """The members matching the search, as a CSV file."""
    search, tier, sort, program, _tiers = _customer_filters()
    today = datetime.now(tz=ZoneInfo(g.company.timezone)).date()
    return csv_download(queries.export_csv(queries.search_members(search, tier or None, sort), program, g.company),
                        queries.export_filename(today))


@bp.get("/customers/new")
@roles_required(UserRole.MANAGER)
def new_customer():
    """Add a customer before their first order (to record who referred them)."""
    return render_template("loyalty/customer_form.html", form=MemberForm(), program=programs.active_program())


@bp.post("/customers")
@roles_required(UserRole.MANAGER)
def create_customer():
    """Add the customer, or show the form again with why it was refused."""
    form = MemberForm()
    program = programs.active_program()
    if program is None:
        flash(_("Set up a loyalty program first."), "error")
        return redirect(url_for("loyalty.index"))
    if form.validate_on_submit():
        try:
            member = ledger.add_member(program, form.phone.data, name=form.name.data,
                                       referred_by_phone=form.referred_by.data or None)
        except LoyaltyError as error:
            db.session.rollback()
            getattr(form, error.field or "phone").errors.append(str(error))
        else:
            flash(_("%(phone)s is a member now.", phone=member.customer_phone), "success")
            return redirect(url_for("loyalty.customer", member_id=member.id))
    return render_template("loyalty/customer_form.html", form=form, program=program), 422


@bp.get("/customers/<member_id>")
@roles_required(UserRole.MANAGER)
def customer(member_id):
    """One customer: balance and its value, tier progress, orders on every platform, the ledger."""
    member = _member_or_404(member_id)
    return _customer_page(member, AdjustForm(formdata=None), ReferrerForm(formdata=None))


def _customer_page(member, adjust_form, referrer_form, status=200):
    program = programs.active_program() or db.session.get(LoyaltyProgram, member.loyalty_program_id)
    ledger_page = db.paginate(queries.member_ledger(member), per_page=20, error_out=False)
    users, order_numbers = queries.ledger_names(ledger_page.items)
    orders = queries.member_orders(member)
    referrer = db.session.get(CustomerLoyalty, member.referred_by_id) if member.referred_by_id else None
    referred = db.session.scalars(select(CustomerLoyalty).where(
        CustomerLoyalty.company_id == member.company_id, CustomerLoyalty.referred_by_id == member.id)
        .order_by(CustomerLoyalty.joined_at)).all()
    tiers = queries.tier_names(program)
    return render_template(
        "loyalty/customer.html", member=member, program=program, ledger=ledger_page, orders=orders, users=users,
        order_numbers=order_numbers,
        order_points=queries.points_by_order(member, [order.id for order in orders]),
        progress=programs.tier_progress(member, program), tier=tiers.get(member.loyalty_tier_id),
        referrer=referrer, referred=referred, adjust_form=adjust_form, referrer_form=referrer_form,
        whatsapp_contact=whatsapp_contact_for(member.customer_phone, g.company.country_code),
        can_be_referred=member.order_count == 0 and member.referred_by_id is None and not ledger_page.total,
        value=services.quantize_money(member.current_points * program.point_value, g.company.currency)), status


@bp.post("/customers/<member_id>/adjust")
@roles_required(UserRole.MANAGER)
def adjust(member_id):
    """Add or remove points with a reason (ledger and audit log)."""
    member = _member_or_404(member_id)
    form = AdjustForm()
    if form.validate_on_submit():
        try:
            ledger.adjust(member.id, form.points.data, form.reason.data, current_user)
        except LoyaltyError as error:
            db.session.rollback()
            getattr(form, error.field or "points").errors.append(str(error))
        else:
            points = form.points.data
            flash((_("Added %(points)s points.", points=points) if points > 0
                   else _("Removed %(points)s points.", points=-points)), "success")
            return redirect(url_for("loyalty.customer", member_id=member.id))
    member = _member_or_404(member_id)
    return _customer_page(member, form, ReferrerForm(formdata=None), 422)


@bp.post("/customers/<member_id>/referrer")
@roles_required(UserRole.MANAGER)
def set_referrer(member_id):
    """Record who referred a customer who has not ordered yet."""
    member = _member_or_404(member_id)
    form = ReferrerForm()
    if form.validate_on_submit():
        try:
            referrer = ledger.set_referrer(member, form.referred_by.data)
        except LoyaltyError as error:
            db.session.rollback()
            form.referred_by.errors.append(str(error))
        else:
            flash(_("Referred by %(phone)s: their bonus comes with this customer's first delivered order.",
                    phone=referrer.customer_phone), "success")
            return redirect(url_for("loyalty.customer", member_id=member.id))
    member = _member_or_404(member_id)
    return _customer_page(member, AdjustForm(formdata=None), form, 422)


# --- The loyalty panel on an order ---------------------------------------------------------------------

def order_page_panel(order):
    """The loyalty panel of the order page (connected to hooks.order_page_panels in create_app)."""
    return "loyalty/_order_panel.html", loyalty_panel(order)


def loyalty_panel(order, phone=None, redeem_form=None, refund_form=None, message=None):
    """What the order page's loyalty panel shows: the customer, what the order earned, what may be redeemed."""
    program = programs.active_program()
    lookup = (phone if phone is not None else request.args.get("loyalty_phone", "")).strip()[:40]
    panel = {"order": order, "program": program, "lookup": lookup, "member": None, "looked_up": bool(lookup),
             "message": message, "redeem_form": redeem_form, "refund_form": refund_form or RefundForm(formdata=None),
             "can_manage": current_user.has_role(UserRole.MANAGER), "lookup_error": None}
    if program is None:
        return panel
    member = None
    if lookup:
        member = ledger.find_member_by_phone(lookup)
        if member is None:
            panel["lookup_error"] = (_("No member has this phone number.")
                                     if ledger.normalize_for_company(lookup) else
                                     _("This is not a phone number we can read."))
    elif order.customer_phone:
        member = ledger.find_member_by_phone(order.customer_phone)
    panel["member"] = member
    rows = db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.company_id == order.company_id, LoyaltyTransaction.order_id == order.id)
        .order_by(LoyaltyTransaction.created_at)).all()
    reversed_ids = {row.reverses_id for row in rows if row.reverses_id}
    panel["earn"] = next((row for row in rows if row.transaction_type.value == "EARN"), None)
    panel["redeem"] = next((row for row in rows if row.transaction_type.value == "REDEEM"), None)
    panel["reversals"] = [row for row in rows if row.transaction_type.value == "REVERSAL"]
    panel["earn_reversed"] = panel["earn"] is not None and panel["earn"].id in reversed_ids
    panel["redeem_reversed"] = panel["redeem"] is not None and panel["redeem"].id in reversed_ids
    panel["why_not"] = ledger.not_earning_reason(order, program)
    panel["point_value"] = program.point_value
    tier = db.session.get(LoyaltyTier, member.loyalty_tier_id) if member and member.loyalty_tier_id else None
    if panel["earn"] is None and panel["why_not"] is None and order.status not in services.CLOSED_ORDER:
        earnable = max(order.total_amount - ledger.redeemed_value(order.id), 0)
        panel["estimate"] = programs.points_for(program, tier, earnable)
    if member is not None:
        panel["tier"] = tier
        panel["value"] = services.quantize_money(member.current_points * program.point_value, order.currency)
        panel["limits"] = ledger.redemption_limits(program, member, order)
        if panel["redeem_form"] is None:
            form = RedeemForm(formdata=None)
            form.member_id.data = str(member.id)
            form.points.data = panel["limits"].maximum if panel["limits"].possible else None
            panel["redeem_form"] = form
    return panel


def _order_for_panel(order_id):
    """The order of the signed-in company (locked later by the service), or 404."""
    return get_or_404(DeliveryOrder, order_id)


def _panel_response(order, **kwargs):
    """The panel alone for htmx; otherwise back to the order page (Post/Redirect/Get)."""
    if request.htmx:
        db.session.expire_all()
        order = db.session.get(DeliveryOrder, order.id)
        return render_template("loyalty/_order_panel.html", panel=loyalty_panel(order, **kwargs))
    if kwargs.get("message"):
        flash(kwargs["message"][1], kwargs["message"][0])
    phone = kwargs.get("phone")
    return redirect(url_for("orders.show", order_id=order.id, **({"loyalty_phone": phone} if phone else {}))
                    + "#loyalty-panel")


@bp.get("/orders/<order_id>/panel")
@roles_required(UserRole.USER)
def order_panel(order_id):
    """The loyalty panel of an order, for a customer looked up by phone (an htmx fragment, or the order page)."""
    order = _order_for_panel(order_id)
    phone = request.args.get("loyalty_phone", "").strip()[:40]
    if not request.htmx:
        return redirect(url_for("orders.show", order_id=order.id, **({"loyalty_phone": phone} if phone else {}))
                        + "#loyalty-panel")
    return render_template("loyalty/_order_panel.html", panel=loyalty_panel(order, phone=phone))


@bp.post("/orders/<order_id>/redeem")
@roles_required(UserRole.USER)
def redeem(order_id):
    """Redeem a customer's points on this order (staff), within the program's rules."""
    order = _order_for_panel(order_id)
    form = RedeemForm()
    phone = request.form.get("loyalty_phone", "").strip()[:40]
    member = _member_or_404(form.member_id.data)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _redeem_refused(order, phone, form)
    try:
        row = ledger.redeem(order.id, member.id, form.points.data, current_user)
    except LoyaltyError as error:
        db.session.rollback()
        form.points.errors.append(str(error))
        return _redeem_refused(order, phone, form)
    message = ("success", _("Redeemed %(points)s points: take %(amount)s off order #%(number)s.",
                            points=-row.points, amount=_money(row.amount, order.currency), number=order.order_number))
    return _panel_response(order, phone=phone or None, message=message)


def _redeem_refused(order, phone, form):
    if request.htmx:  # 200: htmx swaps only 2xx answers, and this one carries the message next to the field
        return render_template("loyalty/_order_panel.html",
                               panel=loyalty_panel(order, phone=phone or None, redeem_form=form))
    flash(form.points.errors[0] if form.points.errors else _("Nothing was redeemed."), "error")
    return redirect(url_for("orders.show", order_id=order.id, **({"loyalty_phone": phone} if phone else {}))
                    + "#loyalty-panel")


def _money(amount, currency):
    from ..i18n import money
    return money(amount, currency)


@bp.post("/orders/<order_id>/refund")
@roles_required(UserRole.MANAGER)
def refund(order_id):
    """Take back the points of a refunded order, and give back what was redeemed on it (audited)."""
    order = _order_for_panel(order_id)
    form = RefundForm()
    if form.validate_on_submit():
        try:
            ledger.refund_order(order, current_user, form.reason.data)
        except LoyaltyError as error:
            db.session.rollback()
            form.reason.errors.append(str(error))
        else:
            return _panel_response(order, message=("success", _("The points of order #%(number)s were taken back.",
                                                                number=order.order_number)))
    elif form.csrf_token.errors:
        abort(400)
    if request.htmx:
        return render_template("loyalty/_order_panel.html", panel=loyalty_panel(order, refund_form=form))
    flash(form.reason.errors[0] if form.reason.errors else _("Nothing was changed."), "error")
    return redirect(url_for("orders.show", order_id=order.id) + "#loyalty-panel")


@bp.post("/orders/<order_id>/award")
@roles_required(UserRole.MANAGER)
def award(order_id):
    """Earn a delivered order's points now, if they were not earned when it was delivered."""
    order = _order_for_panel(order_id)
    try:
        result = ledger.award_missed(order, current_user)
    except LoyaltyError as error:
        db.session.rollback()
        return _panel_response(order, message=("error", str(error)))
    return _panel_response(order, message=("success", _("Order #%(number)s earned %(points)s points.",
                                                        number=order.order_number, points=result.earned)))


def loyalty_status_closed(order):
    """True when the order is cancelled or rejected."""
    return order.status in (OrderStatus.CANCELLED, OrderStatus.REJECTED)
