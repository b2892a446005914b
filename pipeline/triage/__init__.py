"""Triage of weekly alerts and follow-up investigations (append-only, audited).

``store`` holds the tables and the rules (who may record what); ``workdays`` the Chinese
working-day calendar used for follow-up due dates; ``cli`` the ``sentinel alerts`` and
``sentinel followup`` commands.
"""
