"""Two-way sync with the company's CRM (Pipedrive first).

A layer beside services: it may import services, storage, reports and core, never the shell
or the app. connector.py is the interface a CRM implements, pipedrive.py the Pipedrive one,
mapping.py turns desk rows and CRM objects into comparable views, engine.py runs a sync, and
state.py keeps its marks. The outbox that feeds it is written by storage/outbox.py.
"""
