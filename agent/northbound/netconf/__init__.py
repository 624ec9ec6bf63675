"""NETCONF (RFC 6241) over SSH (RFC 6242) on the same service core as gNMI."""
