"""The notifier's rules in plain Python: who is told what, and how pages are cut."""
