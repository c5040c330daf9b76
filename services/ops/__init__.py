"""Operators' tools: commands that inspect and repair a running twoway."""
