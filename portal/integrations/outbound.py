"""Outbound calls to the platforms, through the job queue with retries and timeouts.

A call is a platform_calls row plus a job deferred in the same transaction. The worker sends it,
records the response time in integration_analytics, and on failure retries with backoff until
max_attempts, after which the call is DEAD and the failure shows on the order and the integration.

An order's calls reach the platform in the order they were made: a call whose order has an earlier
call still unfinished waits (its job leaves it QUEUED) until that one succeeds or gives up, and the
finished call queues a job for the next one.
"""
import random
import time
from datetime import datetime, timedelta, timezone

import requests
from flask import current_app
from sqlalchemy import func, select

from ..crypto import SecretError, decrypt_secret
from ..extensions import db
from ..hooks import platform_call_finished
from ..queue import defer
from ..models import (AggregationType, CallStatus, DeliveryOrder, IntegrationAnalytics, IntegrationConfig,
                      OrderStatus, PlatformCall)
from ..platforms import adapter_for

TIMEOUT = (3, 10)  # seconds to connect, to read
UNFINISHED = (CallStatus.QUEUED, CallStatus.SENDING, CallStatus.FAILED)


def queue_call(integration, outbound, action, order=None, user_id=None):
    """Queue one OutboundRequest for the worker; returns the PlatformCall row."""
    base_url = (integration.base_url or "").rstrip("/")
    call = PlatformCall(company_id=integration.company_id, integration_config_id=integration.id,
                        order_id=order.id if order is not None else None, action=action,
                        method=outbound.method, url=f"{base_url}{outbound.path}"[:1000] if base_url else outbound.path,
                        request_body=outbound.json, user_id=user_id,
                        max_attempts=current_app.config.get("PLATFORM_CALL_MAX_ATTEMPTS", 5))
    if order is not None:
        # The clock, not the transaction's start: calls made in one transaction keep their order.
        call.created_at = func.clock_timestamp()
    if not base_url:
        db.session.add(call)
        call.status, call.error = CallStatus.DEAD, "No platform base URL is configured for this integration."
        call.completed_at = datetime.now(timezone.utc)
        _note_on_order(order, call)
        return call
    db.session.add(call)
    db.session.flush()
    if order is not None:
        order.last_push_status, order.last_push_error = CallStatus.QUEUED, None
    defer("send_platform_call", call_id=call.id, company_id=call.company_id)
    return call


def queue_status_pushes(order, integration, statuses, reason=None, preparation_minutes=None, user_id=None):
    """Tell the platform about each status the order passed, in order; returns the queued calls.

    A move that skips steps passes each of them (READY → DELIVERED passes "picked up"), and the platform
    is told every step it has a call for. Nothing is queued when one step cannot be described (e.g. a
    reason the platform does not know): the error shows on the order.
    """
    adapter = adapter_for(integration.platform)
    outbound = []
    for status in statuses:
        try:
            request = adapter.status_request(order, status, reason=reason, preparation_minutes=(
                preparation_minutes if OrderStatus(status) is OrderStatus.ACCEPTED else None))
        except ValueError as error:  # e.g. a reason this platform does not know: visible on the order
            order.last_push_status, order.last_push_error = CallStatus.FAILED, str(error)[:1000]
            order.last_pushed_at = datetime.now(timezone.utc)
            return []
        if request is not None:
            outbound.append((OrderStatus(status), request))
    if not outbound:
        order.last_push_status, order.last_push_error = CallStatus.SKIPPED, None
        return []
    return [queue_call(integration, request, f"STATUS_{status.value}", order=order, user_id=user_id)
            for status, request in outbound]


def queue_status_push(order, integration, status, reason=None, preparation_minutes=None, user_id=None):
    """Tell the platform about an order's new status, if the platform has a call for it."""
    adapter = adapter_for(integration.platform)
    try:
        outbound = adapter.status_request(order, status, reason=reason, preparation_minutes=preparation_minutes)
    except ValueError as error:  # e.g. a reason this platform does not know: visible on the order
        order.last_push_status, order.last_push_error = CallStatus.FAILED, str(error)[:1000]
        order.last_pushed_at = datetime.now(timezone.utc)
        return None
    if outbound is None:
        order.last_push_status, order.last_push_error = CallStatus.SKIPPED, None
        return None
    return queue_call(integration, outbound, f"STATUS_{OrderStatus(status).value}", order=order, user_id=user_id)


def request_headers(integration):
    """Credentials for the call. The platforms' token exchanges (DH /v2/login, Careem OAuth) are not
    implemented yet: the API key is sent as a bearer token, plus the adapter's own headers."""
    try:
        api_key = decrypt_secret(integration.company_id, integration.api_key)
    except SecretError:
        api_key = None
    headers = {"User-Agent": "merchant-portal/1.0", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    headers.update(adapter_for(integration.platform).request_headers(
        {"api_key": api_key, "merchant_id": integration.merchant_id, "store_id": integration.store_id}))
    return headers


def retry_delay(attempts):
    """Exponential backoff with ±20 % jitter, capped at ten minutes."""
    base = current_app.config.get("PLATFORM_CALL_RETRY_BASE_SECONDS", 10)
    return timedelta(seconds=min(base * (2 ** (attempts - 1)), 600) * random.uniform(0.8, 1.2))


def send_call(call_id, company_id):
    """Send a queued call (the worker's job); safe to run twice: a finished call is left alone."""
    from ..tenancy import use_company

    use_company(company_id)
    call = db.session.scalar(select(PlatformCall).where(PlatformCall.id == call_id)
                             .with_for_update(skip_locked=True))
    if call is None or call.status in (CallStatus.SUCCEEDED, CallStatus.DEAD, CallStatus.SENDING) \
            or _waits_for_earlier(call):
        db.session.rollback()
        return None
    integration = db.session.get(IntegrationConfig, call.integration_config_id)
    call.status, call.attempts = CallStatus.SENDING, call.attempts + 1
    db.session.commit()

    started = time.perf_counter()
    response_status, response_body, error = None, None, None
    try:
        response = requests.request(call.method, call.url, json=call.request_body,
                                    headers=request_headers(integration), timeout=TIMEOUT)
        response_status, response_body = response.status_code, response.text[:4000]
        if response.status_code >= 300:
            error = f"HTTP {response.status_code}: {response.text[:300]}"
    except requests.RequestException as exception:
        error = f"{type(exception).__name__}: {exception}"[:1000]
    duration_ms = int((time.perf_counter() - started) * 1000)
    return _record_result(call, integration, response_status, response_body, error, duration_ms)


def _record_result(call, integration, response_status, response_body, error, duration_ms):
    now = datetime.now(timezone.utc)
    call.response_status, call.response_body, call.duration_ms = response_status, response_body, duration_ms
    call.error = error
    db.session.add(IntegrationAnalytics(
        company_id=call.company_id, platform=integration.platform, metric_name="api_response_time",
        metric_value=duration_ms, metric_unit="ms", aggregation_type=AggregationType.AVG, period_start=now,
        period_end=now, tags={"action": call.action, "success": error is None, "status": response_status}))
    if error is None:
        call.status, call.completed_at, call.next_attempt_at = CallStatus.SUCCEEDED, now, None
        integration.last_success_at = now
    elif call.attempts >= call.max_attempts:
        call.status, call.completed_at, call.next_attempt_at = CallStatus.DEAD, now, None
        integration.last_error_at, integration.last_error = now, f"{call.action}: {error}"[:1000]
    else:
        call.status, call.next_attempt_at = CallStatus.FAILED, now + retry_delay(call.attempts)
        integration.last_error_at, integration.last_error = now, f"{call.action}: {error}"[:1000]
        defer("send_platform_call", at=call.next_attempt_at, call_id=call.id,
              company_id=call.company_id)
    if call.order_id is not None:
        order = db.session.get(DeliveryOrder, call.order_id)
        _note_on_order(order, call)
        if call.status in (CallStatus.SUCCEEDED, CallStatus.DEAD):
            _release_next(call, order)
    platform_call_finished.send(call)
    db.session.commit()
    return call


def _note_on_order(order, call):
    """The order card shows the state of its last push to the platform."""
    if order is None:
        return
    order.last_push_status = call.status
    order.last_push_error = call.error
    order.last_pushed_at = datetime.now(timezone.utc)


def _waits_for_earlier(call):
    """True while an earlier call of the same order is unfinished: the platform hears them in order."""
    if call.order_id is None:
        return False
    return db.session.scalar(select(func.count()).select_from(PlatformCall).where(
        PlatformCall.company_id == call.company_id, PlatformCall.order_id == call.order_id,
        PlatformCall.created_at < call.created_at, PlatformCall.status.in_(UNFINISHED))) > 0


def _release_next(call, order):
    """The order's next queued call gets a job now that the one before it has finished (its own job
    found it waiting; should that job still run, the call's lock and status make it a no-op)."""
    following = db.session.scalar(
        select(PlatformCall).where(PlatformCall.company_id == call.company_id, PlatformCall.order_id == call.order_id,
                                   PlatformCall.created_at > call.created_at, PlatformCall.status == CallStatus.QUEUED)
        .order_by(PlatformCall.created_at).limit(1))
    if following is None:
        return
    if order is not None:
        order.last_push_status, order.last_push_error = CallStatus.QUEUED, None
    defer("send_platform_call", call_id=following.id, company_id=following.company_id)
