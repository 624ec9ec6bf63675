"""edge-agent: a gNMI/YANG management agent for programmable network hardware at the edge."""

__version__ = "0.1.0"
