"""The local platform simulator: plays the delivery platforms' side, on 127.0.0.1, with no internet.

- `orders`: realistic orders (and later cancellations/status events) in each platform's own format,
  for explicit `Target`s (integration id, webhook secret, menu).
- `sender`: signs each body with the platform adapter's `sign` and sends it to the portal's webhook
  URL through a pluggable transport; `Simulation` paces orders and follow-ups.
- `recorder`: a small Flask app answering the calls the portal makes to the platforms (status,
  availability, menu, store status), recording them for the page at `/` and `/calls.json`.
- `targets`: reads a company's enabled integrations and mapped products from the portal's database
  (the only module here that touches the portal's models).
- `command`: `flask --app wsgi simulate`.
"""
