"""Tests of agent.datastore."""
