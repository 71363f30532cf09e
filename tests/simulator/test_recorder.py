"""The simulator's outbound endpoints: every call recorded and answered the platform's way."""
import random

from portal.simulator.recorder import Journal, create_app


def test_calls_are_recorded_and_answered_like_the_platforms():
    journal = Journal()
    client = create_app(journal).test_client()

    careem = client.put("/careem/orders/62504546", json={"state": "accepted"},
                        headers={"Authorization": "Bearer secret-token", "Brand-Id": "brand-1"})
    talabat = client.post("/talabat/v2/order/status/5f373562", json={"status": "order_accepted"})
    prepared = client.post("/hungerstation/v2/orders/5f373562/preparation-completed")
    items = client.patch("/careem/catalogs/branch-1/items", json={"items": [{"id": "P001", "status": "inactive"}]})
    generic = client.post("/nashmi/orders/NSH-1/status", json={"status": "ready"}, headers={"X-Api-Key": "k"})

    assert (careem.status_code, careem.get_json()) == (200, {})
    assert (talabat.status_code, talabat.get_json()) == (202, {})
    assert prepared.status_code == 202
    assert (items.status_code, items.get_json()) == (200, {"ok": True})
    assert (generic.status_code, generic.get_json()) == (200, {"ok": True})

    calls = client.get("/calls.json").get_json()["calls"]
    assert [(call["platform"], call["method"], call["path"]) for call in calls] == [
        ("nashmi", "POST", "/orders/NSH-1/status"),
        ("careem", "PATCH", "/catalogs/branch-1/items"),
        ("hungerstation", "POST", "/v2/orders/5f373562/preparation-completed"),
        ("talabat", "POST", "/v2/order/status/5f373562"),
        ("careem", "PUT", "/orders/62504546"),
    ]   # newest first
    accepted = calls[-1]
    assert accepted["json"] == {"state": "accepted"} and accepted["status"] == 200 and accepted["time"]
    assert accepted["headers"]["Authorization"] == "Bearer [redacted]"
    assert accepted["headers"]["Brand-Id"] == "brand-1"
    assert calls[0]["headers"]["X-Api-Key"] == "[redacted]"
    assert "secret-token" not in client.get("/").get_data(as_text=True)


def test_the_page_shows_both_directions_and_refreshes():
    journal = Journal()
    journal.record_sent({"time": "2025-05-01T08:30:05.000+00:00", "platform": "TALABAT", "event": "ORDER",
                         "order_id": "n0s1-w0k1", "summary": "2 items, SAR 51.00", "method": "POST",
                         "path": "/webhooks/talabat/abc/order/v-1", "status": 200,
                         "answer": '{"remoteResponse": {"remoteOrderId": "n0s1-w0k1"}}', "error": None})
    client = create_app(journal).test_client()
    client.put("/careem/orders/7", json={"state": "ready"})
    page = client.get("/").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "PUT /orders/7" in page and "n0s1-w0k1" in page and "2 items, SAR 51.00" in page
    assert client.get("/calls.json").get_json()["sent"][0]["order_id"] == "n0s1-w0k1"


def test_failure_injection_and_unknown_platforms():
    client = create_app(fail_rate=1.0, rng=random.Random(1)).test_client()
    assert client.put("/careem/orders/1", json={"state": "accepted"}).status_code == 503
    assert client.put("/careem/orders/1?fail_rate=0", json={"state": "accepted"}).status_code == 200
    assert client.post("/ubereats/orders/1").status_code == 404
    calls = client.get("/calls.json").get_json()["calls"]
    assert [call["status"] for call in calls] == [404, 200, 503]


def test_the_journal_is_bounded_and_tells_its_listeners():
    journal = Journal(maxlen=3)
    heard = []
    journal.listeners.append(heard.append)
    journal.listeners.append(lambda call: 1 / 0)   # a broken listener changes nothing
    client = create_app(journal).test_client()
    for number in range(5):
        assert client.put(f"/careem/orders/{number}", json={}).status_code == 200
    assert [call["path"] for call in journal.snapshot()[0]] == ["/orders/4", "/orders/3", "/orders/2"]
    assert len(heard) == 5
