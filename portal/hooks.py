"""Reactions of one area to another's events, without the areas importing each other.

The area where something happens sends the signal; the app factory connects the receivers
(`register_tasks_and_hooks` in portal/__init__.py). Receivers run synchronously, inside the sender's
transaction, in the order they were connected.
"""
from blinker import Namespace

_signals = Namespace()

# An order changed status. Sender: the order; keywords previous, target, source, user_id, reason.
order_status_changed = _signals.signal("order-status-changed")

# A call to a platform finished an attempt (succeeded, failed for now, or dead). Sender: the call.
platform_call_finished = _signals.signal("platform-call-finished")

# The order page is being drawn. Sender: the order. A receiver returns (template, panel) for a panel
# of its area on the page (loyalty's), built by the route before rendering, never by the template.
order_page_panels = _signals.signal("order-page-panels")

# A delivered order earned a loyalty member points. Sender: the member; keywords points, order_id.
points_earned = _signals.signal("points-earned")

# A customer wrote on WhatsApp (stored, not a STOP/START). Sender: the connection; keywords phone, text, wamid.
whatsapp_message_received = _signals.signal("whatsapp-message-received")
