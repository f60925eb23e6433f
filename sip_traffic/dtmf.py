"""Key sequences of any length: sip-tester's RFC 2833 pcaps, renumbered to follow each other.

sip-tester ships one pcap per key, all from one recorded stream (one SSRC) with fixed RTP
sequence numbers and timestamps, and SIPp replays them untouched. Asterisk (rightly) drops an
event whose sequence number or timestamp goes backwards, so "3" then "2", or "2" twice, reaches
Asterisk as "3" alone. Menus need both: each key pressed is replayed from a copy of its pcap
whose sequence numbers and timestamps continue after the previous key's.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from pathlib import Path

from .scenarios import PCAP_DIR, dtmf_pcap

_PCAP_HEADER = 24
_RECORD_HEADER = 16
_ETHERNET = 14
_UDP = 8
# Sequence numbers and timestamps of the renumbered keys: far from the originals (7984-12087,
# 13280-92640), one key every 2 s of 8 kHz timestamp and 50 sequence numbers apart.
FIRST_SEQUENCE = 20000
SEQUENCE_STEP = 50
FIRST_TIMESTAMP = 200_000
TIMESTAMP_STEP = 16_000
_PLAY = re.compile(r'play_pcap_audio="' + re.escape(str(PCAP_DIR)) + r'/dtmf_2833_(\w+)\.pcap"')
_NAMES = {"star": "*", "pound": "#"}


def renumbered_pcaps(digits: Sequence[str], folder: Path) -> list[Path]:
    """One pcap per key pressed, in order, numbered to follow each other."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, digit in enumerate(digits):
        target = folder / f"key-{index:02d}.pcap"
        _renumber(
            dtmf_pcap(digit),
            target,
            FIRST_SEQUENCE + index * SEQUENCE_STEP,
            FIRST_TIMESTAMP + index * TIMESTAMP_STEP,
        )
        paths.append(target)
    return paths


def with_renumbered_keys(scenario_xml: str, folder: Path) -> str:
    """``scenario_xml`` with every sip-tester DTMF pcap replaced by its renumbered copy."""
    digits = [_NAMES.get(name, name) for name in _PLAY.findall(scenario_xml)]
    paths = iter(renumbered_pcaps(digits, folder))
    return _PLAY.sub(lambda _: f'play_pcap_audio="{next(paths)}"', scenario_xml)


def _renumber(source: Path, target: Path, first_sequence: int, timestamp: int) -> None:
    data = bytearray(source.read_bytes())
    offset = _PCAP_HEADER
    base: int | None = None
    while offset + _RECORD_HEADER <= len(data):
        (length,) = struct.unpack_from("<I", data, offset + 8)
        packet = offset + _RECORD_HEADER
        rtp = _rtp_offset(data, packet)
        (sequence,) = struct.unpack_from(">H", data, rtp + 2)
        base = sequence if base is None else base
        # Retransmitted end packets keep the same number, as in the original.
        struct.pack_into(
            ">HI", data, rtp + 2, (first_sequence + sequence - base) & 0xFFFF, timestamp
        )
        offset = packet + length
    target.write_bytes(bytes(data))


def _rtp_offset(data: bytearray, packet: int) -> int:
    ip = packet + _ETHERNET
    header_length = (data[ip] & 0x0F) * 4
    return ip + header_length + _UDP
