"""Posture: what the guards protect. Today the live inventory; the AI-BOM and findings build on it."""

from __future__ import annotations

from .inventory import AgentRecord, FunctionRecord, Inventory, McpServerRecord, ToolRecord

__all__ = ["AgentRecord", "FunctionRecord", "Inventory", "McpServerRecord", "ToolRecord"]
