"""Notifier service: notifications for the people concerned."""
