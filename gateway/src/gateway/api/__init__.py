"""The gateway's HTTP API: routing to the services, access checks, the merged OpenAPI."""
