"""Kafka wire primitives for the compatibility tests that speak the protocol on raw sockets.

Written from Kafka's protocol description (big-endian integers, unsigned varints, classic and
compact strings, request headers v1/v2), independently of the broker's generated codecs, so that a
mistake in the broker's schema cannot be mirrored here.
"""

import socket
import struct

CLIENT_ID = "brook-compat"


# --- encoding ------------------------------------------------------------------------------------

def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def string(s):
    """A classic (int16-length) string; None is the null string."""
    if s is None:
        return struct.pack(">h", -1)
    data = s.encode()
    return struct.pack(">h", len(data)) + data


def compact_string(s):
    """A compact (uvarint length + 1) string; None is the null string."""
    if s is None:
        return uvarint(0)
    data = s.encode()
    return uvarint(len(data) + 1) + data


def compact_array(items, encode):
    """A compact array; None is the null array."""
    if items is None:
        return uvarint(0)
    return uvarint(len(items) + 1) + b"".join(encode(i) for i in items)


TAGS = uvarint(0)  # an empty tagged-field section


def header_v1(api_key, version, correlation_id, client_id=CLIENT_ID):
    return struct.pack(">hhi", api_key, version, correlation_id) + string(client_id)


def header_v2(api_key, version, correlation_id, client_id=CLIENT_ID):
    return header_v1(api_key, version, correlation_id, client_id) + TAGS


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


# --- decoding ------------------------------------------------------------------------------------

class Reader:
    """Decodes a response body; every read checks bounds so a short answer fails the test."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        assert self.pos + n <= len(self.data), f"response too short: need {n} at {self.pos} of {len(self.data)}"
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int8(self):
        return struct.unpack(">b", self.take(1))[0]

    def int16(self):
        return struct.unpack(">h", self.take(2))[0]

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def int64(self):
        return struct.unpack(">q", self.take(8))[0]

    def uvarint(self):
        shift = value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7

    def nullable_string(self):
        n = self.int16()
        return None if n < 0 else self.take(n).decode()

    def compact_string(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def compact_array(self, decode):
        n = self.uvarint()
        return None if n == 0 else [decode(self) for _ in range(n - 1)]

    def uuid(self):
        return self.take(16)

    def skip_tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())

    def done(self):
        assert self.pos == len(self.data), f"{len(self.data) - self.pos} unexpected trailing bytes"


# --- sockets -------------------------------------------------------------------------------------

def connect(port, timeout):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, f"connection closed after {len(buf)} of {n} bytes"
        buf += chunk
    return bytes(buf)


def read_response(s, max_size=1 << 24):
    """One response frame's body (correlation id first)."""
    (size,) = struct.unpack(">i", recv_exact(s, 4))
    assert 4 <= size < max_size, f"response size {size}"
    return recv_exact(s, size)
