"""rules engine: imports neither Flask nor service (DESIGN "Layout")."""
