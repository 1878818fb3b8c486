"""Gateway: the public front door of the platform."""
