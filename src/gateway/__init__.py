"""Hookwire webhook gateway."""
