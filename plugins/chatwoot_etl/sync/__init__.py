"""The sync engine, Airflow-agnostic: plan a window, read the source, transform, load, keep watermarks.

May import the kernel only (enforced by tests/unit/test_boundaries.py).
"""
