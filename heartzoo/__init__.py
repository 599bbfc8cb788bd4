"""heartzoo."""
