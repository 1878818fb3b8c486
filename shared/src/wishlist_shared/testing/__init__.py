"""The test fixture layer: real servers for every test, isolated per test.

PostgreSQL, Redis and RabbitMQ come from testcontainers where a Docker engine
answers and from the local servers (``TEST_*`` environment variables) where it
does not; ``TEST_SERVERS=local|containers`` forces one path.
"""
