"""Multi-tenant ETL from Chatwoot's analytics view into conversations_analytics."""

__version__ = "0.1.0"
