"""Gathering faces from video and images, datasets and their splits."""
