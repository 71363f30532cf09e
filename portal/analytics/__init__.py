"""Analytics and reports (MANAGER and above): charts, money and commission, reconciliation, integration health.

Routes in routes.py; the range a report covers in forms.py; figures in services.py over the SQL of
queries.py; the daily rollup the worker keeps current in rollup.py.
"""
