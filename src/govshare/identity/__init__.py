"""Regions, departments, people, roles, sessions, second factors, API tokens, the data-admin register."""
