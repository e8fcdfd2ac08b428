"""Outgoing network calls: bounded HTTP with retries."""
