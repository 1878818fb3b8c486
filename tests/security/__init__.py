"""OWASP API Security Top 10 (2023), proven on the running platform (see SECURITY.md).

A package so that the platform its modules share (``conftest.platform``,
package-scoped) stops when the last of them is done, not at the end of the session.
"""
