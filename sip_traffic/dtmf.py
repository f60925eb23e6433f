"""Key sequences of any length: sip-tester's RFC 2833 pcaps, renumbered to follow each other.

sip-tester ships one pcap per key, all from one recorded stream (one SSRC) with fixed RTP
sequence numbers and timestamps, and SIPp replays them untouched. Asterisk (rightly) drops an
event whose sequence number or timestamp goes backwards, so "3" then "2", or "2" twice, reaches
Asterisk as "3" alone. Menus need both: each key pressed is replayed from a copy of its pcap
whose sequence numbers and timestamps continue after the previous key's.

SIPp plays one pcap at a time per call: a key played during the speech sample stops the speech.
`with_speech_after_key` places the speech where a test needs it (a message, a conversation).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from pathlib import Path

from .scenarios import AUDIO_PCAP, PCAP_DIR, dtmf_pcap

_PCAP_HEADER = 24
_RECORD_HEADER = 16
_ETHERNET = 14
_UDP = 8
# The renumbered keys join the speech sample's stream (its SSRC) after its last packet
# (sequence 59368, timestamp 56640): a change of SSRC, or a key numbered before speech
# Asterisk has already heard, makes Asterisk drop the key. One key every 50 sequence numbers
# and 2 s of 8 kHz timestamp.
FIRST_SEQUENCE = 60_000
SEQUENCE_STEP = 50
FIRST_TIMESTAMP = 200_000
TIMESTAMP_STEP = 16_000
# A key's pcap lasts 140 ms (280 ms of tone events); this leaves margin.
KEY_PLAY_MS = 500
_PLAY = re.compile(r'play_pcap_audio="' + re.escape(str(PCAP_DIR)) + r'/dtmf_2833_(\w+)\.pcap"')
_NAMES = {"star": "*", "pound": "#"}


def renumbered_pcaps(digits: Sequence[str], folder: Path) -> list[Path]:
    """One pcap per key pressed, in order, numbered to follow each other."""
    folder.mkdir(parents=True, exist_ok=True)
    ssrc = _first_ssrc(AUDIO_PCAP)
    paths = []
    for index, digit in enumerate(digits):
        target = folder / f"key-{index:02d}.pcap"
        _renumber(
            dtmf_pcap(digit),
            target,
            FIRST_SEQUENCE + index * SEQUENCE_STEP,
            FIRST_TIMESTAMP + index * TIMESTAMP_STEP,
            ssrc,
        )
        paths.append(target)
    return paths


def with_renumbered_keys(scenario_xml: str, folder: Path) -> str:
    """``scenario_xml`` with every sip-tester DTMF pcap replaced by its renumbered copy."""
    digits = [_NAMES.get(name, name) for name in _PLAY.findall(scenario_xml)]
    paths = iter(renumbered_pcaps(digits, folder))
    return _PLAY.sub(lambda _: f'play_pcap_audio="{next(paths)}"', scenario_xml)


def with_speech_after_key(scenario_xml: str, index: int) -> str:
    """The caller speaks (sip-tester's 7 s sample) right after the ``index``-th key (0-based) of
    a scenario already renumbered. SIPp plays one pcap at a time per call, so the next key cuts
    the speech short: that is how a test ends a callback message with "#"."""
    marker = f'key-{index:02d}.pcap"/></action></nop>'
    if marker not in scenario_xml:
        raise ValueError(f"the scenario has no key number {index}")
    # Starting the speech also stops the key's pcap: let the key's end packets go out first.
    speech = (
        f'<pause milliseconds="{KEY_PLAY_MS}"/>\n'
        f'<nop><action><exec play_pcap_audio="{AUDIO_PCAP}"/></action></nop>'
    )
    return scenario_xml.replace(marker, f"{marker}\n{speech}", 1)


def _renumber(source: Path, target: Path, first_sequence: int, timestamp: int, ssrc: int) -> None:
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


def _first_ssrc(pcap: Path) -> int:
    data = bytearray(pcap.read_bytes())
    (ssrc,) = struct.unpack_from(">I", data, _rtp_offset(data, _PCAP_HEADER + _RECORD_HEADER) + 8)
    return int(ssrc)


def _rtp_offset(data: bytearray, packet: int) -> int:
    ip = packet + _ETHERNET
    header_length = (data[ip] & 0x0F) * 4
    return ip + header_length + _UDP
