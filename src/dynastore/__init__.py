"""Dynastore: a self-hosted, DynamoDB-compatible database server."""

__version__ = "0.1.0"
