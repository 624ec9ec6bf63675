"""Typed Python classes generated from the edge-agent YANG modules (see edge_site)."""
