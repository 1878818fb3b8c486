"""The real-time relay: WebSocket tickets, the Redis pub/sub hub, and the sockets it feeds."""
