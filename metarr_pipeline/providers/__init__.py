"""Providers: TMDB and fanart.tv clients behind one polite HTTP layer, plus the response cache."""
