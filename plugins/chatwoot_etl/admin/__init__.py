"""Administration: tenants and inbox mappings, inspection of the source, migrations of the analytics database.

May import the kernel and sync.
"""
