"""Mounting and exchange: channels, the base, syncs and the worker."""
