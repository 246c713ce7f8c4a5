"""Page plumbing: templating, CSRF, flash messages, the public route list."""
