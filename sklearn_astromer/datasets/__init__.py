"""Simulated surveys, small real samples and catalogue readers."""

__all__ = []
