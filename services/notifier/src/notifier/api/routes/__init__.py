"""The notifier's routers, one module per resource."""
