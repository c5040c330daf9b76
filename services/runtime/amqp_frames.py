"""AMQP 0-9-1 framing for the confirm publisher: encode a publish, split incoming frames.

pamqp (the framing library under aio-pika) encodes and decodes every frame; only the two
frames of the hot path are handled by hand: the ``basic.publish`` method frame out and the
``basic.ack`` method frame in, a few struct calls each instead of pamqp's generic machinery.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from pamqp import commands, frame, header

FRAME_METHOD = 1
FRAME_HEADER = 2
FRAME_BODY = 3
FRAME_HEARTBEAT = 8
FRAME_END = b"\xce"
FRAME_OVERHEAD = 8  # type, channel, size, end marker
PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
HEARTBEAT_FRAME = struct.pack(">BHI", FRAME_HEARTBEAT, 0, 0) + FRAME_END

_HEAD = struct.Struct(">BHI")
_BASIC_PUBLISH = struct.pack(">HHH", 60, 40, 0)  # class, method, reserved ticket
_BASIC_ACK = struct.pack(">HH", 60, 80)
_ACK = struct.Struct(">QB")  # delivery tag, flags (bit 0: multiple)


def _short_string(value: str) -> bytes:
    data = value.encode()
    if len(data) > 255:
        raise ValueError(f"AMQP short string over 255 bytes: {value[:40]!r}...")
    return bytes((len(data),)) + data


def encode_publish(
    channel: int,
    exchange: str,
    routing_key: str,
    body: bytes,
    properties: Mapping[str, Any],
    frame_max: int,
) -> bytes:
    """The method, content-header and body frames of one mandatory ``basic.publish``."""
    method = _BASIC_PUBLISH + _short_string(exchange) + _short_string(routing_key) + b"\x01"
    content = header.ContentHeader(0, len(body), commands.Basic.Properties(**properties))
    parts = [
        _HEAD.pack(FRAME_METHOD, channel, len(method)),
        method,
        FRAME_END,
        frame.marshal(content, channel),
    ]
    chunk = (frame_max - FRAME_OVERHEAD) if frame_max else len(body) or 1
    for start in range(0, len(body), chunk):
        piece = body[start : start + chunk]
        parts += (_HEAD.pack(FRAME_BODY, channel, len(piece)), piece, FRAME_END)
    return b"".join(parts)


def encode(channel: int, value: Any) -> bytes:
    """Any other frame (handshake, close), through pamqp."""
    return frame.marshal(value, channel)


def next_frame(buffer: bytearray | bytes, offset: int) -> tuple[int, int, int] | None:
    """``(type, channel, end)`` of the complete frame at ``offset``, or None if incomplete.

    The payload is ``buffer[offset + 7 : end - 1]``.
    """
    if len(buffer) - offset < 7:
        return None
    kind, channel, size = _HEAD.unpack_from(buffer, offset)
    end = offset + 7 + size + 1
    if len(buffer) < end:
        return None
    if buffer[end - 1] != FRAME_END[0]:
        raise ValueError("corrupt AMQP frame: no frame-end marker")
    return kind, channel, end


def parse_ack(payload: bytes) -> tuple[int, bool] | None:
    """``(delivery_tag, multiple)`` if the method payload is a ``basic.ack``."""
    if payload[:4] != _BASIC_ACK:
        return None
    tag, flags = _ACK.unpack_from(payload, 4)
    return tag, bool(flags & 1)


def decode(kind: int, payload: bytes) -> Any:
    """A method or content-header frame's payload as a pamqp object."""
    data = _HEAD.pack(kind, 0, len(payload)) + payload + FRAME_END
    return frame.unmarshal(data)[2]
