#!/usr/bin/env python3
"""pySim's own SCP02/SCP03 host code (pySim/global_platform/scp.py) against simota's emulated
ISD, without pcscd: this script plays vpcd (2-byte length frames; 01 power on, 04 ATR) to
`simota serve --vpcd HOST:PORT --listen`. Checks INITIALIZE UPDATE / EXTERNAL AUTHENTICATE,
wrapped GET STATUS and R-MAC/R-ENC unwrapping at every level pySim offers, PUT KEY with
pySim's key encryption, DELETE key, and that a wrong key is refused.

usage: pysim-gp-interop.py PYSIM_DIR HOST PORT      (exit 0 = all checks passed)
"""
import socket
import struct
import sys
import time

sys.path.insert(0, sys.argv[1])
from osmocom.utils import h2b, b2h  # noqa: E402
from pySim.global_platform import GpCardKeyset, compute_kcv  # noqa: E402
from pySim.global_platform.scp import SCP02, SCP03  # noqa: E402

HOST, PORT = sys.argv[2], int(sys.argv[3])
K = h2b('404142434445464748494a4b4c4d4e4f')
ISD = 'a000000151000000'


class Vpcd:
    def __init__(self):
        for _ in range(100):
            try:
                self.s = socket.create_connection((HOST, PORT))
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit('cannot connect to simota serve --listen')
        self.frame(b'\x01', reply=False)

    def frame(self, payload: bytes, reply=True) -> bytes:
        self.s.sendall(struct.pack('>H', len(payload)) + payload)
        if not reply:
            return b''
        n = struct.unpack('>H', self.recv(2))[0]
        return self.recv(n)

    def recv(self, n):
        b = b''
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise SystemExit('connection closed')
            b += c
        return b

    def apdu(self, c: bytes):
        r = self.frame(c)
        data, sw = r[:-2], r[-2:]
        while sw[0] == 0x61:
            r = self.frame(bytes([c[0] & 3, 0xC0, 0, 0, sw[1]]))
            data, sw = data + r[:-2], r[-2:]
        return data, b2h(sw)


FAILS = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        FAILS.append(what)


def session(v, scp, level, hc):
    d, sw = v.apdu(h2b('00a4040008' + ISD + '00'))
    check(sw == '9000' and d[:1] == b'\x6f', 'SELECT ISD answers an FCI')
    d, sw = v.apdu(scp.gen_init_update_apdu(host_challenge=hc))
    check(sw == '9000', 'INITIALIZE UPDATE')
    scp.parse_init_update_resp(d)  # raises when the card cryptogram is wrong
    d, sw = v.apdu(scp.gen_ext_auth_apdu(level))
    check(sw == '9000', '%s EXTERNAL AUTHENTICATE level %02x' % (type(scp).__name__, level))


def wrapped(v, scp, apdu_hex):
    d, sw = v.apdu(scp.wrap_cmd_apdu(h2b(apdu_hex)))
    return scp.unwrap_rsp_apdu(h2b(sw), d), sw


v = Vpcd()
# SCP03 at every level pySim wraps, S8 and S16.
for level in (0x01, 0x03, 0x13, 0x33):
    for s_mode in (8, 16):
        scp = SCP03(card_keys=GpCardKeyset(0x30, K, K, K), s_mode=s_mode)
        session(v, scp, level, bytes(range(s_mode)))
        d, sw = wrapped(v, scp, '80f28002024f0000')
        check(sw == '9000' and h2b(ISD) in d, 'SCP03 S%d level %02x GET STATUS ISD' % (s_mode, level))
        d, sw = wrapped(v, scp, '80f24002024f0000')
        check(sw == '9000' and d[:1] == b'\xe3', 'SCP03 S%d level %02x GET STATUS applications' % (s_mode, level))

# PUT KEY (pySim's key encryption and format) and DELETE key under SCP03.
scp = SCP03(card_keys=GpCardKeyset(0x30, K, K, K))
session(v, scp, 0x03, b'\x01' * 8)
new = [h2b('11223344556677881122334455667788'), h2b('21223344556677881122334455667788'),
       h2b('31223344556677881122334455667788')]
body = b'\x31'
for k in new:
    kcb = scp.encrypt_key(k)
    body += b'\x88' + bytes([len(kcb)]) + kcb + b'\x03' + compute_kcv('aes', k)
d, sw = wrapped(v, scp, '80d80081%02x%s00' % (len(body), b2h(body)))
check(sw == '9000' and d == b'\x31' + b''.join(compute_kcv('aes', k) for k in new), 'PUT KEY 31 (SCP03, pySim format)')
scp31 = SCP03(card_keys=GpCardKeyset(0x31, *new))
session(v, scp31, 0x01, b'\x02' * 8)
d, sw = wrapped(v, scp31, '80e40000' + '06d00101d20131' + '00')
check(sw == '9000', 'DELETE key 31 in its own session')

# SCP02 (pySim does C-MAC and C-DEC; no R-MAC).
for level in (0x01, 0x03):
    scp = SCP02(card_keys=GpCardKeyset(0x20, K, K, K))
    session(v, scp, level, b'\x03' * 8)
    d, sw = wrapped(v, scp, '80f28002024f0000')
    check(sw == '9000' and h2b(ISD) in d, 'SCP02 level %02x GET STATUS ISD' % level)

# Wrong keys: pySim refuses the card cryptogram; a forged EXTERNAL AUTHENTICATE gets 6300.
scp = SCP03(card_keys=GpCardKeyset(0x30, b'\x55' * 16, b'\x55' * 16, b'\x55' * 16))
v.apdu(h2b('00a4040008' + ISD + '00'))
d, sw = v.apdu(scp.gen_init_update_apdu(host_challenge=b'\x04' * 8))
try:
    scp.parse_init_update_resp(d)
    check(False, 'pySim refuses the card cryptogram of other keys')
except ValueError:
    check(True, 'pySim refuses the card cryptogram of other keys')
d, sw = v.apdu(h2b('8482010010' + '00' * 16))
check(sw == '6300', 'forged EXTERNAL AUTHENTICATE answers 6300')
d, sw = v.apdu(h2b('80f28002024f0000'))
check(sw == '6982', 'GET STATUS without a session answers 6982')

print('%d failure(s)' % len(FAILS))
sys.exit(1 if FAILS else 0)
