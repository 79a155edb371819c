"""The /v5 endpoint handlers, one module per resource."""
