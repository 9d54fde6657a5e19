"""A LAN device's hardware (MAC) address, from the host's neighbour (ARP) table.

Devices that report no serial number are still told apart by their network interface:
once a connection to them has been made, the operating system knows their MAC address.
Only Linux's table (/proc/net/arp) is read; elsewhere the address is unknown (None).
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

ARP_TABLE = Path("/proc/net/arp")
_COMPLETE = 0x2  # ATF_COM: the entry holds a resolved address


def mac_from_arp_table(text: str, ip: str) -> str | None:
    """The MAC of `ip` in the text of /proc/net/arp; None when absent or incomplete."""
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[0] != ip:
            continue
        try:
            flags = int(fields[2], 16)
        except ValueError:
            continue
        mac = fields[3].lower()
        if flags & _COMPLETE and mac != "00:00:00:00:00:00" and len(mac.split(":")) == 6:
            return mac
    return None


def neighbour_mac(host: str, table: Path = ARP_TABLE) -> str | None:
    """The MAC of `host` (name or IPv4 address) if the neighbour table has it. Blocking."""
    try:
        ip = str(ipaddress.IPv4Address(host))
    except ValueError:
        try:
            ip = socket.gethostbyname(host)
        except OSError:
            return None
    try:
        text = table.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return mac_from_arp_table(text, ip)
