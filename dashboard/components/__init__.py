"""Shared building blocks: pages compose these instead of repeating figure or layout code."""
