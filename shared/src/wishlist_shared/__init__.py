"""The wishlist platform's own library: what more than one service needs."""
