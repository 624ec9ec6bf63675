"""SR-IOV through sysfs: ``sriov_totalvfs`` and ``sriov_numvfs`` of a netdev's PCI function.

The function is found from the netdev's IFLA_PARENT_DEV_NAME, under /sys/bus/pci/devices,
which (unlike /sys/class/net) looks the same from every network namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PCI_DEVICES = Path("/sys/bus/pci/devices")


@dataclass(frozen=True, slots=True)
class Sriov:
    """A PCI function's SR-IOV limits: how many VFs it can have and has now."""

    device: str  # PCI address, e.g. 0000:03:00.0
    total_vfs: int
    num_vfs: int

    @property
    def numvfs_path(self) -> Path:
        return PCI_DEVICES / self.device / "sriov_numvfs"


def read_sriov(bus: str | None, device: str | None, root: Path = PCI_DEVICES) -> Sriov | None:
    """The SR-IOV facts of a PCI function, or None when it has no SR-IOV capability."""
    if bus != "pci" or not device or "/" in device:
        return None
    base = root / device
    try:
        total = int((base / "sriov_totalvfs").read_text().strip())
        current = int((base / "sriov_numvfs").read_text().strip())
    except (OSError, ValueError):
        return None
    return Sriov(device, total, current) if total > 0 else None


def write_numvfs(sriov: Sriov, count: int) -> None:
    """Sets the VF count; the kernel only changes a non-zero count by going through 0."""
    path = sriov.numvfs_path
    if sriov.num_vfs != 0 and count != 0:
        path.write_text("0")
    path.write_text(str(count))
