"""The Messages area: every WhatsApp message and its status (MANAGER+), templates and notification rules
(MANAGER+), the WhatsApp connection and a test message (COMPANY_ADMIN), and the panel on an order page."""
import json
import uuid
from datetime import date

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..auth.forms import EmptyForm
from ..extensions import db
from ..i18n import LANGUAGE_LABELS
from ..lookups import get_or_404
from ..models import UserRole, WhatsappMessage, WhatsappMessageStatus as Status, WhatsappTemplate
from ..web import page_or_fragment
from . import manage, queries, services
from .forms import ConnectionForm, TemplateForm, TestMessageForm, notification_form
from .templates import MAX_BODY, VARIABLES, check_template, preview

bp = Blueprint("messaging", __name__, url_prefix="/messages")

PER_PAGE = 50


# --- Messages ---------------------------------------------------------------------------------------

def _day(raw):
    try:
        return date.fromisoformat((raw or "").strip()[:10]) if raw else None
    except ValueError:
        return None


def _filters(templates):
    """The list's filters from the query string; a value that is not one of the choices is ignored."""
    status = request.args.get("status", "")
    template = request.args.get("template", "")
    filters = queries.MessageFilters(
        status=status if status in {s.value for s in Status} else "",
        template=template if template in {str(t.id) for t in templates} else "",
        date_from=_day(request.args.get("from")), date_to=_day(request.args.get("to")))
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        filters.date_from, filters.date_to = filters.date_to, filters.date_from
    return filters


def _chart(figures, templates):
    """The 30-day figures as the bar chart's JSON (safe inside a <script type="application/json">)."""
    labels = [_template_label(templates.get(row.template_id)) for row in figures]
    chart = {"labels": labels, "datasets": [
        {"label": _("Sent"), "data": [row.sent for row in figures], "backgroundColor": "#94a3b8"},
        {"label": _("Delivered"), "data": [row.delivered for row in figures], "backgroundColor": "#0f766e"},
        {"label": _("Read"), "data": [row.read for row in figures], "backgroundColor": "#2563eb"}]}
    return json.dumps(chart, ensure_ascii=False).replace("</", "<\\/")


def _template_label(template):
    if template is None:
        return "—"
    return f"{template.name} · {LANGUAGE_LABELS.get(template.language, template.language)}"


@bp.get("/")
@roles_required(UserRole.MANAGER)
def index():
    """Every message newest first, filtered and in pages of 50, under the last 30 days' figures per template."""
    templates = queries.templates_by_id()
    filters = _filters(templates.values())
    page = db.paginate(queries.messages_query(filters, g.company.timezone), per_page=PER_PAGE, error_out=False)
    figures = queries.template_figures()
    return render_template("messaging/index.html", page=page, filters=filters, templates=templates,
                           statuses=[s.value for s in Status], figures=figures,
                           chart_json=_chart(figures, templates) if figures else None,
                           order_numbers=queries.order_numbers(page.items), any_messages=queries.any_messages(),
                           status_time=queries.status_time, template_label=_template_label,
                           stats_days=queries.STATS_DAYS)


@bp.get("/<message_id>")
@roles_required(UserRole.MANAGER)
def show(message_id):
    """One message: its status timeline with the reason it failed, template, event, language and values."""
    message = get_or_404(WhatsappMessage, message_id)
    template = db.session.get(WhatsappTemplate, message.template_id) if message.template_id else None
    return render_template("messaging/show.html", message=message, template=template,
                           order_number=queries.order_numbers([message]).get(message.order_id),
                           template_label=_template_label)


# --- Templates --------------------------------------------------------------------------------------

@bp.get("/templates")
@roles_required(UserRole.MANAGER)
def templates():
    """The company's templates: name, language, category, what Meta said, and the start of the text."""
    return render_template("messaging/templates.html", templates=queries.all_templates(), delete_form=EmptyForm())


def _template_page(form, template=None, status=200):
    return render_template("messaging/template_form.html", form=form, template=template,
                           preview=_preview_of(form.body.data or "", form), variables=VARIABLES,
                           delete_form=EmptyForm()), status


def _preview_of(body, form=None):
    name = form.name.data if form is not None else request.form.get("name", "")
    language = form.language.data if form is not None else request.form.get("language", "ar")
    category = form.category.data if form is not None else request.form.get("category", "UTILITY")
    check = check_template(name or "", language, category, body)
    return {"ar": preview(body, "ar"), "en": preview(body, "en"), "count": len(body), "limit": MAX_BODY,
            "errors": [str(message) for messages in check.errors.values() for message in messages] if body else [],
            "empty": not body.strip()}


def _apply_refusal(form, error):
    for field, messages in error.errors.items():
        target = getattr(form, field, None) or form.body
        target.errors = list(target.errors) + [str(message) for message in messages]


@bp.get("/templates/new")
@roles_required(UserRole.MANAGER)
def new_template():
    """The form for a template already submitted to Meta (or about to be)."""
    return _template_page(TemplateForm())


@bp.post("/templates")
@roles_required(UserRole.MANAGER)
def create_template():
    """Save a new template, or show the form again with each refusal next to its field."""
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            template = manage.save_template(None, g.company.id, **_template_values(form))
        except manage.TemplateRefused as error:
            db.session.rollback()
            _apply_refusal(form, error)
        else:
            db.session.commit()
            flash(_("Saved the template %(name)s.", name=template.name), "success")
            return redirect(url_for("messaging.templates"))
    return _template_page(form, status=422)


def _template_values(form):
    return {"name": form.name.data, "language": form.language.data, "category": form.category.data,
            "body": form.body.data or "", "status": form.status.data,
            "rejection_reason": form.rejection_reason.data}


@bp.get("/templates/<template_id>/edit")
@roles_required(UserRole.MANAGER)
def edit_template(template_id):
    """The form to change a template (its text, or the status Meta reported)."""
    template = get_or_404(WhatsappTemplate, template_id)
    return _template_page(TemplateForm(obj=template), template)


@bp.post("/templates/<template_id>")
@roles_required(UserRole.MANAGER)
def update_template(template_id):
    """Save a template's changes, or show the form again with why they were refused."""
    template = get_or_404(WhatsappTemplate, template_id)
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            manage.save_template(template, g.company.id, **_template_values(form))
        except manage.TemplateRefused as error:
            db.session.rollback()
            template = get_or_404(WhatsappTemplate, template_id)
            _apply_refusal(form, error)
        else:
            db.session.commit()
            flash(_("Saved the template %(name)s.", name=template.name), "success")
            return redirect(url_for("messaging.templates"))
    return _template_page(form, template, 422)


@bp.post("/templates/<template_id>/delete")
@roles_required(UserRole.MANAGER)
def delete_template(template_id):
    """Remove a template that no message was sent with."""
    template = get_or_404(WhatsappTemplate, template_id)
    name = template.name
    try:
        manage.delete_template(template)
    except manage.TemplateRefused as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Removed the template %(name)s.", name=name), "success")
    return redirect(url_for("messaging.templates"))


@bp.post("/templates/preview")
@roles_required(UserRole.MANAGER)
def preview_template():
    """The message filled with sample values in Arabic and English, with what Meta would refuse (htmx)."""
    body = request.form.get("body", "")[:MAX_BODY * 2]
    return page_or_fragment("messaging/preview.html", "messaging/_preview.html", preview=_preview_of(body))


# --- Notifications ----------------------------------------------------------------------------------

def _notifications_page(form, status=200):
    return render_template("messaging/notifications.html", form=form, approved=queries.approved_names(),
                           has_templates=bool(queries.template_names())), status


@bp.get("/notifications")
@roles_required(UserRole.MANAGER)
def notifications():
    """Which template each event sends (or none), and whether it is on."""
    return _notifications_page(notification_form(queries.template_names(), queries.rules_by_event()))


@bp.post("/notifications")
@roles_required(UserRole.MANAGER)
def update_notifications():
    """Save the rules: a template per event creates or updates its rule; "Don't send" removes it."""
    form = notification_form(queries.template_names(), queries.rules_by_event())
    if not form.validate_on_submit():
        return _notifications_page(form, 422)
    manage.save_rules(g.company.id, {event: (template.data, enabled.data) for event, template, enabled in form.rows()})
    db.session.commit()
    flash(_("Notifications saved."), "success")
    return redirect(url_for("messaging.notifications"))


# --- The connection (company admins) -----------------------------------------------------------------

def _connection_page(form, test_form, status=200, test_refused=None):
    connection = services.current_connection()
    test_form.set_templates(queries.approved_templates())
    webhook_url = (url_for("whatsapp_webhooks.receive", connection_id=connection.id, _external=True)
                   if connection else None)
    return render_template("messaging/connection.html", form=form, test_form=test_form, connection=connection,
                           webhook_url=webhook_url, test_refused=test_refused), status


@bp.get("/connection")
@roles_required(UserRole.COMPANY_ADMIN)
def connection():
    """The WhatsApp Business number, its secrets (never shown back), the webhook address, a test message."""
    current = services.current_connection()
    form = ConnectionForm(obj=current) if current else ConnectionForm()
    return _connection_page(form, TestMessageForm(formdata=None))


@bp.post("/connection")
@roles_required(UserRole.COMPANY_ADMIN)
def update_connection():
    """Save the connection; a secret left empty keeps the stored one."""
    form = ConnectionForm()
    if form.validate_on_submit():
        try:
            services.save_connection(g.company.id, phone_number_id=form.phone_number_id.data,
                                     token=form.access_token.data, app_secret=form.app_secret.data,
                                     verify_token=form.verify_token.data, base_url=form.base_url.data,
                                     display_phone=form.display_phone.data, is_enabled=form.is_enabled.data)
        except services.WhatsappConnectionError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Saved the WhatsApp connection."), "success")
            return redirect(url_for("messaging.connection"))
    return _connection_page(form, TestMessageForm(formdata=None), 422)


@bp.post("/connection/test")
@roles_required(UserRole.COMPANY_ADMIN)
def send_test():
    """Queue a test message (a template, or text inside the 24-hour window); a refusal changes nothing."""
    current = services.current_connection()
    form = TestMessageForm()
    form.set_templates(queries.approved_templates())
    saved = ConnectionForm(obj=current) if current else ConnectionForm(formdata=None)
    if not form.validate_on_submit():
        return _connection_page(saved, form, 422)
    template = None
    if form.template_id.data:
        try:
            template = db.session.get(WhatsappTemplate, uuid.UUID(form.template_id.data))
        except ValueError:
            template = None
        if template is None or template.status != "APPROVED":
            form.template_id.errors = [_("Choose an approved template.")]
            return _connection_page(saved, form, 422)
    if current is None:
        form.phone.errors = [_("Save the connection first.")]
        return _connection_page(saved, form, 422)
    try:
        message = services.send_test(g.company.id, form.phone.data, text=form.text.data, template=template)
    except ValueError as error:  # SendRefused, or a template that cannot be filled
        db.session.rollback()
        return _connection_page(saved, form, 422, test_refused=str(error))
    db.session.commit()
    flash(_("The test message is queued: follow its status on its page."), "success")
    return redirect(url_for("messaging.show", message_id=message.id))


# --- The panel on an order page ----------------------------------------------------------------------

def order_page_panel(order):
    """The order's WhatsApp messages on its page (hooks.order_page_panels): staff see the number masked."""
    messages = queries.messages_for_order(order.id)
    if not messages:
        return None
    manager = current_user.has_role(UserRole.MANAGER)
    return "messaging/_order_panel.html", {"messages": messages, "manager": manager,
                                           "status_time": queries.status_time}
