"""Local runs and tests only: the embedded PostgreSQL, the Chatwoot-shaped demo source, the demo.

May import everything but the CLI.
"""
