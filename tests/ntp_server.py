"""A real NTP responder on loopback for the clock tests (UDP, NTP v4 packets, RFC 5905).

It answers client requests (mode 3) with server replies (mode 4) built by hand, and can be
told to misbehave: its clock ``offset`` seconds off (e.g. +90), a given ``stratum`` or
``leap`` indicator, a kiss-of-death (``kiss="RATE"``/``"DENY"``: stratum 0, the code as
reference id), ``silent`` (no answer at all), ``wrong_originate`` (an originate timestamp
that is not our request's transmit timestamp), or a simulated network ``delay`` (seconds,
half on the way in and half on the way out, so the client measures it as round trip).
Attributes may be changed while it runs.
"""
import socket
import struct
import threading
import time

NTP_DELTA = 2208988800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01
PACKET = struct.Struct("!B B b b I I 4s 8s 8s 8s 8s")


def to_ntp(unix_seconds: float) -> bytes:
    """A 64-bit NTP timestamp (32.32 fixed point) for a Unix time."""
    value = unix_seconds + NTP_DELTA
    seconds = int(value)
    fraction = int((value - seconds) * 2**32) & 0xFFFFFFFF
    return struct.pack("!II", seconds & 0xFFFFFFFF, fraction)


def from_ntp(raw: bytes) -> float:
    seconds, fraction = struct.unpack("!II", raw)
    return seconds - NTP_DELTA + fraction / 2**32


class NTPResponder:
    """``with NTPResponder(offset=90) as server: server.spec  # "127.0.0.1:<port>"``."""

    def __init__(self, *, offset=0.0, stratum=1, leap=0, kiss=None, silent=False, wrong_originate=False,
                 delay=0.0, ref_id=b"GPS\0", root_delay=0.0005, root_dispersion=0.0005):
        self.offset = offset
        self.stratum = stratum
        self.leap = leap
        self.kiss = kiss
        self.silent = silent
        self.wrong_originate = wrong_originate
        self.delay = delay
        self.ref_id = ref_id
        self.root_delay = root_delay
        self.root_dispersion = root_dispersion
        self.requests = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="ntp-responder", daemon=True)

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    @property
    def spec(self) -> str:
        """The ``host:port`` entry for ``NTP_SERVERS``."""
        return f"127.0.0.1:{self.port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(1024)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            if len(data) < PACKET.size or data[0] & 0x7 != 3:  # only client requests
                continue
            self.requests += 1
            if self.silent:
                continue
            reply = self._reply(data)
            try:
                self._sock.sendto(reply, peer)
            except OSError:
                return

    def _server_time(self) -> float:
        return time.time() + self.offset

    def _reply(self, request: bytes) -> bytes:
        version = (request[0] >> 3) & 0x7
        client_transmit = request[40:48]
        if self.delay:
            time.sleep(self.delay / 2)  # the request's way in
        received = to_ntp(self._server_time())
        if self.kiss:
            leap, stratum, ref_id = 3, 0, self.kiss.encode("ascii")[:4].ljust(4, b"\0")
        else:
            leap, stratum, ref_id = self.leap, self.stratum, self.ref_id
        originate = client_transmit
        if self.wrong_originate:
            originate = to_ntp(from_ntp(client_transmit) - 5.0)
        transmit = to_ntp(self._server_time())
        reply = PACKET.pack(
            (leap << 6) | (version << 3) | 4,  # LI, VN (as asked), mode 4 = server
            stratum,
            4,  # poll: 16 s
            -20,  # precision: about a microsecond
            _short(self.root_delay),
            _short(self.root_dispersion),
            ref_id,
            to_ntp(self._server_time() - 16),  # reference timestamp: last set 16 s ago
            originate,
            received,
            transmit,
        )
        if self.delay:
            time.sleep(self.delay / 2)  # the reply's way out
        return reply


def _short(seconds: float) -> int:
    """NTP short format (16.16 fixed point)."""
    return int(seconds * 2**16) & 0xFFFFFFFF
