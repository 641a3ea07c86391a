"""Deciding: quality gates, the decision window, face tracking, blinks, head pose, the active
challenge and their fusion into one live / attack / uncertain answer."""
