"""Artwork: candidates, analysis of image bytes, scoring, duplicates and selection."""
