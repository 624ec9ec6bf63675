"""Tests of agent.security and the `edge-agent user` command."""
