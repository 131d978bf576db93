"""Thin clients for systems outside the action server."""
