"""``govshare demo``: realistic, entirely fictitious Lanzhou data, seeded through the services."""
