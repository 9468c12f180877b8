"""The inventory database: models, sessions, and queries that return plain values.

Rule: nothing outside ``db`` and ``services`` touches SQLAlchemy; nothing connects at
import time. The schema changes only through Alembic migrations (``ksserver init``).
"""
