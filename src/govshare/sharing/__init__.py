"""Sharing: applications, decisions, coordination, grants, consumer systems and the data API."""
