"""SIPp scenarios for the line: callers on the carrier trunk, agent phones, a phone nobody answers.

Scenarios are generated because what a test needs varies per call: which menu digits a caller
presses and when, how long an agent's phone rings, how long the conversation lasts. DTMF is
RFC 2833/4733 telephone-events replayed from sip-tester's pcaps, so it reaches Asterisk exactly
as a carrier would send it; audio is sip-tester's G.711 A-law sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

PCAP_DIR = Path("/usr/share/sip-tester")
AUDIO_PCAP = PCAP_DIR / "g711a.pcap"  # 7 s of A-law speech, payload type 8
DTMF_NAMES = {"*": "star", "#": "pound"}
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


@dataclass(frozen=True)
class Key:
    """Press ``digit`` after ``pause`` seconds (counted from the previous step)."""

    digit: str
    pause: float = 1.0

    def __post_init__(self) -> None:
        if self.digit not in "0123456789*#" or len(self.digit) != 1:
            raise ValueError(f"not a DTMF digit: {self.digit!r}")


def keys(digits: str, pause: float = 1.0, first_pause: float | None = None) -> list[Key]:
    """``keys("12")``: press 1 then 2, ``pause`` seconds apart (``first_pause`` before 1)."""
    return [
        Key(d, first_pause if (i == 0 and first_pause is not None) else pause)
        for i, d in enumerate(digits)
    ]


def dtmf_pcap(digit: str) -> Path:
    return PCAP_DIR / f"dtmf_2833_{DTMF_NAMES.get(digit, digit)}.pcap"


def caller_scenario(
    *,
    caller: str = "0812345678",
    keys_pressed: Sequence[Key] = (),
    hangup_after: float | None = 5.0,
    audio: bool = True,
) -> str:
    """A carrier call to the DID given with sipp's ``-s``, from ``caller`` (may contain SIPp
    keywords such as ``[call_number]`` to vary it per call). After the answer it plays audio,
    presses ``keys_pressed``, then hangs up after ``hangup_after`` seconds, or waits for
    Asterisk's BYE when ``hangup_after`` is None."""
    caller = escape(caller)
    steps = [_INVITE.replace("@CALLER@", caller), _ANSWERED]
    if audio:
        steps.append(_play(AUDIO_PCAP))
    for key in keys_pressed:
        steps += [_pause(key.pause), _play(dtmf_pcap(key.digit))]
    if hangup_after is None:
        steps.append(_WAIT_BYE)
    else:
        steps += [_pause(hangup_after), _CALLER_BYE.replace("@CALLER@", caller)]
    return _scenario("line1300 caller", steps)


def agent_scenario(*, ring: float = 0.5, talk: float | None = 3.0) -> str:
    """An agent phone (SIPp UAS, one for every agent endpoint): rings ``ring`` seconds,
    answers, talks ``talk`` seconds then hangs up, or waits for the caller's BYE if None."""
    # SIPp refuses a scenario that assigns a variable it never uses: the From/To captured at
    # INVITE are needed only when the agent sends the BYE.
    invite = _UAS_INVITE if talk is not None else _UAS_INVITE_NO_CAPTURE
    steps = [invite, _pause(ring), _UAS_ANSWER]
    steps.append(_WAIT_BYE if talk is None else _pause(talk) + _UAS_BYE)
    return _scenario("line1300 agent phone", steps)


def unavailable_scenario() -> str:
    """A callee who is not there: every INVITE is answered "480 Temporarily Unavailable"."""
    return (SCENARIO_DIR / "unavailable.xml").read_text(encoding="utf-8")


def ring_no_answer_scenario() -> str:
    """A phone that rings until the caller gives up (CANCEL, then 487)."""
    return (SCENARIO_DIR / "ring_no_answer.xml").read_text(encoding="utf-8")


# --- pieces -----------------------------------------------------------------------------------


def _scenario(name: str, steps: Sequence[str]) -> str:
    body = "\n".join(steps)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
        f'<scenario name="{name}">\n{body}\n'
        '<ResponseTimeRepartition value="100, 500, 1000, 5000"/>\n'
        '<CallLengthRepartition value="1000, 5000, 10000, 30000"/>\n'
        "</scenario>\n"
    )


def _pause(seconds: float) -> str:
    return f'<pause milliseconds="{round(seconds * 1000)}"/>'


def _play(pcap: Path) -> str:
    return f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>'


_SDP_OFFER = """v=0
o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv"""

_SDP_ANSWER = """v=0
o=sipp 53655766 2353687638 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv"""

_INVITE = f"""<send retrans="500">
<![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "@CALLER@" <sip:@CALLER@@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:@CALLER@@[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: line1300-sipp-carrier
Content-Type: application/sdp
Content-Length: [len]

{_SDP_OFFER}
]]>
</send>"""

_ANSWERED = """<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="183" optional="true"/>
<recv response="200" rtd="true" rrs="true"/>
<send>
<![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]>
</send>"""

_CALLER_BYE = """<send retrans="500">
<![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:@CALLER@@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]>
</send>
<recv response="200" crlf="true"/>"""

_WAIT_BYE = """<recv request="BYE"/>
<send>
<![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]>
</send>"""

_UAS_INVITE = """<recv request="INVITE" crlf="true" rrs="true">
<action>
<ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote_party"/>
<ereg regexp=".*" search_in="hdr" header="To:" assign_to="local_party"/>
</action>
</recv>
<send>
<![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]>
</send>"""

_CAPTURE = _UAS_INVITE[_UAS_INVITE.index("<action>") : _UAS_INVITE.index("</action>\n") + 10]
_UAS_INVITE_NO_CAPTURE = _UAS_INVITE.replace(_CAPTURE, "")

_UAS_ANSWER = f"""<send retrans="500">
<![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

{_SDP_ANSWER}
]]>
</send>
<recv request="ACK" rtd="true" crlf="true"/>"""

_UAS_BYE = """
<send retrans="500">
<![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From:[$local_party];tag=[pid]SIPpTag01[call_number]
To:[$remote_party]
Call-ID: [call_id]
CSeq: 1 BYE
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

]]>
</send>
<recv response="200" crlf="true"/>"""
