"""Posture: what the guards protect. Today the live inventory; the AI-BOM and findings build on it."""

from __future__ import annotations

from .inventory import Inventory

__all__ = ["Inventory"]
