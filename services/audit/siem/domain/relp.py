"""RELP frames (rsyslog's Reliable Event Logging Protocol, as librelp speaks it):
`TXNR SP COMMAND SP DATALEN [SP DATA] LF`, DATA present only when DATALEN is not 0.

TXNR runs 1..999999999 per session and the receiver insists on each one in turn; its answers
are `TXNR rsp DATALEN CODE [SP TEXT] [LF BODY]`. The session opens with an `open` frame that
offers `name=value` lines and is answered with the receiver's own offers; `close` is answered
and followed by `0 serverclose 0`, which a receiver also sends on its own when it goes away.
Bytes in, frames out: no sockets here."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

MAX_TXNR = 999_999_999
MAX_COMMAND = 32  # letters, as librelp reads them
MAX_DIGITS = 9  # TXNR and DATALEN
VERSION = "0"  # the only RELP version there is
SYSLOG, OPEN, CLOSE, RSP, SERVERCLOSE = "syslog", "open", "close", "rsp", "serverclose"
OK = 200


class ProtocolError(ValueError):
    """The peer sent something that is not RELP (or not the answer RELP expects)."""


@dataclass(frozen=True)
class Frame:
    txnr: int
    command: str
    data: bytes = b""


@dataclass(frozen=True)
class Response:
    code: int
    text: str
    body: str = ""


def encode(frame: Frame) -> bytes:
    if not 0 <= frame.txnr <= MAX_TXNR:
        raise ValueError(f"TXNR {frame.txnr} is outside 0..{MAX_TXNR}")
    if not (frame.command.isascii() and frame.command.isalpha()):
        raise ValueError(f"RELP command {frame.command!r} must be ASCII letters")
    head = b"%d %s %d" % (frame.txnr, frame.command.encode(), len(frame.data))
    return head + (b" " + frame.data if frame.data else b"") + b"\n"


def next_txnr(txnr: int) -> int:
    return 1 if txnr >= MAX_TXNR else txnr + 1


class Decoder:
    """Splits a byte stream into frames, however it was cut; refuses what is not RELP and
    DATA longer than `max_data` (an answer is short: a peer sending megabytes is not one)."""

    def __init__(self, max_data: int = 64 * 1024) -> None:
        self._buffer = bytearray()
        self._max_data = max_data

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames = []
        while (frame := self._next()) is not None:
            frames.append(frame)
        return frames

    def _next(self) -> Frame | None:
        buffer = self._buffer
        header_end = _header_end(buffer)
        if header_end is None:
            return None
        txnr, command, length = _header(bytes(buffer[:header_end]), self._max_data)
        # With data: header SP DATA LF; without: header LF right away.
        start = header_end + 1 if length else header_end
        end = start + length
        if len(buffer) <= end:
            return None
        if length and buffer[header_end] != ord(" "):
            raise ProtocolError(f"no space before the data of frame {txnr}")
        if buffer[end] != ord("\n"):
            raise ProtocolError(f"frame {txnr} ({command}) does not end in LF after {length} bytes")
        frame = Frame(txnr, command, bytes(buffer[start:end]))
        del buffer[: end + 1]
        return frame


def _header_end(buffer: bytearray) -> int | None:
    """Where DATALEN ends: after the second space, at the first byte that is not a digit."""
    first = buffer.find(b" ")
    second = buffer.find(b" ", first + 1) if first >= 0 else -1
    if second < 0:
        if len(buffer) > 2 * MAX_DIGITS + MAX_COMMAND + 2:
            raise ProtocolError(f"not a RELP frame: {bytes(buffer[:40])!r}")
        return None
    index = second + 1
    while index < len(buffer) and chr(buffer[index]).isdigit():
        index += 1
    if index == len(buffer):
        if index - second - 1 > MAX_DIGITS:
            raise ProtocolError(f"DATALEN too long: {bytes(buffer[:index])!r}")
        return None
    return index


def _header(header: bytes, max_data: int) -> tuple[int, str, int]:
    parts = header.split(b" ")
    if len(parts) != 3 or not all(parts):
        raise ProtocolError(f"not a RELP frame header: {header[:60]!r}")
    txnr, command, length = parts
    if not txnr.isdigit() or len(txnr) > MAX_DIGITS:
        raise ProtocolError(f"bad TXNR {txnr[:20]!r}")
    if not command.isalpha() or len(command) > MAX_COMMAND:
        raise ProtocolError(f"bad command {command[:40]!r}")
    if not length.isdigit() or len(length) > MAX_DIGITS:
        raise ProtocolError(f"bad DATALEN {length[:20]!r}")
    if int(length) > max_data:
        raise ProtocolError(f"frame {int(txnr)} announces {int(length)} bytes (at most {max_data})")
    return int(txnr), command.decode("ascii"), int(length)


def response(frame: Frame) -> Response:
    """The code, text and body of an `rsp` frame's data ("200 OK\\nrelp_version=0...")."""
    if frame.command != RSP:
        raise ProtocolError(f"expected rsp, got {frame.command} (frame {frame.txnr})")
    text = frame.data.decode("utf-8", "replace")
    status, _, body = text.partition("\n")
    code, _, human = status.partition(" ")
    if len(code) != 3 or not code.isdigit():
        raise ProtocolError(f"rsp {frame.txnr} has no status code: {status[:60]!r}")
    return Response(int(code), human, body)


def offers(software: str, commands: tuple[str, ...] = (SYSLOG,)) -> bytes:
    """What a client offers in `open`: `software` is "name,version[,url]"."""
    lines = [f"relp_version={VERSION}", f"relp_software={software}"]
    return "\n".join([*lines, f"commands={','.join(commands)}"]).encode()


def parse_offers(body: str) -> dict[str, str]:
    return dict(line.partition("=")[::2] for line in body.splitlines() if line)


def offer_problems(offered: Mapping[str, str]) -> Iterator[str]:
    """What makes a receiver's answer to `open` unusable for sending syslog."""
    if offered.get("relp_version") != VERSION:
        yield f"relp_version {offered.get('relp_version')!r}, not {VERSION}"
    if SYSLOG not in offered.get("commands", "").split(","):
        yield f"commands {offered.get('commands', '')!r}, without syslog"
