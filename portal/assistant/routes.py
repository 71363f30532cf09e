"""The web chat customers open (/chat/<public id>: no account, the company from its public id) and the staff
Inbox (/inbox: conversations needing staff, the assistant's, closed ones; replies, close, give back; the
answers the assistant may give, and the last 30 days' figures).

A browser's conversation is named by a secret token in its Flask session, one per company: no message or
conversation id appears in any chat address, so a changed URL can only ever reach a new, empty conversation.
"""
import hashlib
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request,
                   session, url_for)
from flask_babel import get_locale, gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..auth.forms import EmptyForm
from ..extensions import db, limiter
from ..i18n import ANSWER_LABELS, INTENT_LABELS
from ..lookups import get_or_404
from ..models import AiChatbotSession, Company, CompanyLogo, User, UserRole
from ..tenancy import resolve_chat_company, use_company
from ..web import page_number, page_or_fragment
from . import queries, services
from .forms import ChatForm, ReplyForm

chat_bp = Blueprint("chat", __name__, url_prefix="/chat")
bp = Blueprint("inbox", __name__, url_prefix="/inbox")

TOKENS_KEY = "chat"  # session["chat"] = {public chat id: the browser's secret token for that company}
POLL_SECONDS = 2


# --- The web chat (public) ----------------------------------------------------------------------------

def _chat_company(public_id):
    """The active company whose chat has this public id, now the request's tenant; 404 otherwise."""
    company_id = resolve_chat_company(public_id)
    if company_id is None:
        abort(404)
    use_company(company_id)
    company = db.session.get(Company, company_id)
    if company is None:
        abort(404)
    g.company = company
    return company


def _token(public_id, create=False):
    """This browser's secret for the company's chat (made on its first message when `create`)."""
    tokens = session.get(TOKENS_KEY)
    tokens = tokens if isinstance(tokens, dict) else {}
    token = tokens.get(public_id)
    if not isinstance(token, str) and create:
        token = services.widget_token()
        session[TOKENS_KEY] = {**tokens, public_id: token}
    return token if isinstance(token, str) else None


def _conversation(company, create=False):
    """This browser's conversation with the company (stored now when `create`), or None."""
    token = _token(company.public_chat_id, create=create)
    if token is None:
        return None
    return services.widget_session(company.id, token, locale=str(get_locale()), create=create)


def _conversation_key():
    """The per-conversation rate limit's key: the browser's token for that chat (its address before one exists)."""
    public_id = str((request.view_args or {}).get("public_id", ""))[:32]
    token = _token(public_id)
    return "chat:" + (hashlib.sha256(token.encode()).hexdigest() if token else f"{public_id}:{request.remote_addr}")


def local_clock(moment, company):
    """A message's time in the company's time zone (the customer's town), "HH:MM"."""
    return moment.astimezone(ZoneInfo(company.timezone)).strftime("%H:%M") if moment else ""


def _chat_context(company, conversation, form=None):
    messages = services.messages_of(conversation) if conversation is not None else []
    return {"company": company, "conversation": conversation, "messages": messages,
            "after": messages[-1].created_at.isoformat() if messages else "",
            "form": form or ChatForm(formdata=None), "clock": lambda moment: local_clock(moment, company),
            "greeting": services.answer_texts(str(get_locale())).get("greeting"), "poll_seconds": POLL_SECONDS,
            "has_logo": db.session.get(CompanyLogo, company.id) is not None}


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@chat_bp.get("/<public_id>")
def page(public_id):
    """The company's chat: its name and logo, this browser's conversation, a box to write in."""
    company = _chat_company(public_id)
    _token(company.public_chat_id, create=True)  # in the session only; the conversation is stored on its first message
    return _no_store(make_response(render_template("chat/page.html", **_chat_context(company, _conversation(company)))))


def _after(raw):
    try:
        return datetime.fromisoformat((raw or "").strip()[:40]) if raw else None
    except ValueError:
        return None


@chat_bp.get("/<public_id>/messages")
def messages(public_id):
    """The conversation, polled every 2 s: 204 with no body while nothing is newer than `after`."""
    company = _chat_company(public_id)
    conversation = _conversation(company)
    after = _after(request.args.get("after"))
    if conversation is None or (after is not None and after.tzinfo is not None
                                and conversation.last_message_at <= after):
        return _no_store(make_response("", 204))
    return _no_store(page_or_fragment("chat/page.html", "chat/_thread.html", **_chat_context(company, conversation)))


@chat_bp.post("/<public_id>/messages")
@limiter.limit(lambda: current_app.config["CHAT_RATE_LIMIT_ADDRESS"])
@limiter.limit(lambda: current_app.config["CHAT_RATE_LIMIT_CONVERSATION"], key_func=_conversation_key)
def send(public_id):
    """The customer writes; the assistant answers (or stays quiet while staff hold the conversation)."""
    company = _chat_company(public_id)
    form = ChatForm()
    if not form.validate_on_submit():
        message = " ".join(str(error) for error in form.text.errors) or _("Please try again.")
        if request.htmx:
            return render_template("chat/_error.html", message=message), 422
        flash(message, "error")
        return redirect(url_for("chat.page", public_id=company.public_chat_id))
    conversation = _conversation(company, create=True)
    services.customer_says(conversation, form.text.data)
    db.session.commit()
    if request.htmx:
        return _no_store(make_response(render_template("chat/_thread.html", **_chat_context(company, conversation))))
    return redirect(url_for("chat.page", public_id=company.public_chat_id))


@chat_bp.get("/<public_id>/logo")
def logo(public_id):
    """The company's logo for its chat page (the staff logo address needs a signed-in user)."""
    company = _chat_company(public_id)
    row = db.session.get(CompanyLogo, company.id)
    if row is None:
        abort(404)
    response = make_response(row.data)
    response.headers["Content-Type"] = row.content_type
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@chat_bp.errorhandler(429)
def too_fast(error):
    """A kind word when someone writes faster than the chat accepts."""
    message = _("You are sending messages very quickly. Please wait a minute, then write again.")
    if request.htmx:
        return render_template("chat/_error.html", message=message), 429
    return render_template("chat/error.html", message=message,
                           public_id=(request.view_args or {}).get("public_id")), 429


# --- The Inbox (staff) --------------------------------------------------------------------------------

def _tab():
    tab = request.args.get("tab", "all")
    return tab if tab in queries.TABS else "all"


MAX_LIST_PAGES = 20  # "show older" goes back 1,000 conversations; the figures count them all


def _inbox_context(tab):
    pages = page_number(maximum=MAX_LIST_PAGES)
    limit = queries.LIST_LIMIT * pages
    rows = queries.conversations(tab, limit=limit)
    return {"tab": tab, "rows": rows, "counts": queries.tab_counts(), "pages": pages,
            "has_older": len(rows) == limit and pages < MAX_LIST_PAGES,
            "version": queries.list_version(), "masked": not current_user.has_role(UserRole.MANAGER)}


def _chart(figures):
    """Conversations per day as the chart's JSON (safe inside a <script type="application/json">)."""
    chart = {"labels": [day.strftime("%d/%m") for day, _count in figures.days],
             "datasets": [{"label": _("Conversations"), "data": [count for _day, count in figures.days],
                           "backgroundColor": "#0f766e"}]}
    return json.dumps(chart, ensure_ascii=False).replace("</", "<\\/")


@bp.get("/")
@roles_required(UserRole.USER)
def index():
    """Conversations needing staff first, then the assistant's, then closed; managers also see the figures."""
    tab = _tab()
    context = _inbox_context(tab)
    if current_user.has_role(UserRole.MANAGER):
        figures = queries.figures(g.company.timezone)
        context.update(figures=figures, chart_json=_chart(figures), stats_days=queries.STATS_DAYS,
                       widget_url=url_for("chat.page", public_id=g.company.public_chat_id, _external=True))
    return render_template("inbox/index.html", **context)


@bp.get("/conversations")
@roles_required(UserRole.USER)
def conversations():
    """The list, polled every 3 s with the version it shows: 204 with no body when nothing changed."""
    tab = _tab()
    if request.args.get("since") == queries.list_version():
        return _no_store(make_response("", 204))
    return _no_store(page_or_fragment("inbox/index.html", "inbox/_conversations.html", **_inbox_context(tab)))


@bp.get("/answers")
@roles_required(UserRole.MANAGER)
def answers():
    """Everything the assistant may say, in English and Arabic side by side, each explained in words."""
    english, arabic = services.answer_texts("en"), services.answer_texts("ar")
    rows = [(key, ANSWER_LABELS.get(key, key), _with_slots(english[key]), _with_slots(arabic.get(key, "")))
            for key in english]
    return render_template("inbox/answers.html", rows=rows)


_SLOT = re.compile(r"%\((\w+)\)s")


def _with_slots(template):
    """A template as a manager reads it: each %(name)s becomes a marked (name), the rest escaped."""
    parts, last = [], 0
    for match in _SLOT.finditer(template):
        parts.append(escape(template[last:match.start()]))
        parts.append(Markup('<mark class="answer-slot" dir="ltr">(%s)</mark>') % match.group(1))
        last = match.end()
    parts.append(escape(template[last:]))
    return Markup("").join(parts)


def _conversation_or_404(session_id):
    return get_or_404(AiChatbotSession, session_id)


def _thread_context(conversation):
    messages = services.messages_of(conversation)
    staff_ids = {message.user_id for message in messages if message.user_id}
    staff = {user.id: user for user in db.session.scalars(db.select(User).where(User.id.in_(staff_ids)))} \
        if staff_ids else {}
    return {"conversation": conversation, "messages": messages, "staff": staff,
            "version": queries.conversation_version(conversation),
            "order": queries.latest_orders([conversation]).get(conversation.id),
            "masked": not current_user.has_role(UserRole.MANAGER), "intent_labels": INTENT_LABELS}


def _show_page(conversation, form=None, refused=None, status=200):
    return render_template("inbox/show.html", form=form or ReplyForm(formdata=None), action_form=EmptyForm(),
                           refused=refused, **_thread_context(conversation)), status


@bp.get("/<session_id>")
@roles_required(UserRole.USER)
def show(session_id):
    """One conversation: every message with who wrote it and when, what the customer asked, the reply box."""
    return _show_page(_conversation_or_404(session_id))


@bp.get("/<session_id>/messages")
@roles_required(UserRole.USER)
def thread(session_id):
    """The conversation's messages, polled every 3 s: 204 with no body while nothing changed."""
    conversation = _conversation_or_404(session_id)
    if request.args.get("since") == queries.conversation_version(conversation):
        return _no_store(make_response("", 204))
    return _no_store(page_or_fragment("inbox/show.html", "inbox/_thread.html", form=ReplyForm(formdata=None),
                                      action_form=EmptyForm(), refused=None, **_thread_context(conversation)))


@bp.post("/<session_id>/reply")
@roles_required(UserRole.USER)
def reply(session_id):
    """Answer the customer (the widget shows it at once; WhatsApp only within 24 hours of their last message)."""
    conversation = _conversation_or_404(session_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _show_page(conversation, form, status=422)
    try:
        services.staff_reply(conversation, current_user, form.text.data)
    except services.ConversationError as error:
        db.session.rollback()
        return _show_page(_conversation_or_404(session_id), form, refused=str(error), status=422)
    db.session.commit()
    flash(_("Reply sent."), "success")
    return redirect(url_for("inbox.show", session_id=conversation.id))


@bp.post("/<session_id>/close")
@roles_required(UserRole.USER)
def close(session_id):
    """Close the conversation (the customer writing again reopens it, with the assistant)."""
    conversation = _conversation_or_404(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.close(conversation, current_user)
    db.session.commit()
    flash(_("Conversation closed."), "success")
    return redirect(url_for("inbox.show", session_id=conversation.id))


@bp.post("/<session_id>/give-back")
@roles_required(UserRole.USER)
def give_back(session_id):
    """Staff are done: the assistant answers this customer again."""
    conversation = _conversation_or_404(session_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.give_back(conversation, current_user)
    except services.ConversationError as error:
        db.session.rollback()
        return _show_page(_conversation_or_404(session_id), refused=str(error), status=422)
    db.session.commit()
    flash(_("The assistant answers this customer again."), "success")
    return redirect(url_for("inbox.show", session_id=conversation.id))
