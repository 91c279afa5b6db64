"""The pure core: what workflow code imports, and the only part of groupdesk passed through the workflow sandbox.

Nothing here does I/O or imports a module that does (no database, no Twilio, no files at call time).
"""
