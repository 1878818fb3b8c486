"""The rules of wishlists in plain Python: who may see what, the surprise rule,
reservation arithmetic, validation and pagination. No FastAPI, no I/O."""
