#!/usr/bin/env python3
"""Generate test-vectors/scp80-kid-modes.json: SCP80 SMS-PP command packets and PoRs for
every keyset x command RC/CC/none x PoR RC/CC/none x ciphering on/off, written independently
of simota (Python, PyCryptodome, zlib) from the spec digest (shared/spec/uicc-ota-digest.md
A.1-A.6):

* the KID byte's algorithm nibble is read per mode (ETSI TS 102 225 5.1.3): for a CC
  1/5/9/2 = DES / 3DES-2key / 3DES-3key CBC-MAC / AES-CMAC with the keyset's key; for an RC
  1 = CRC16, 5 = CRC32, anything else is reserved (an error vector); the command's mode comes
  from SPI1 b2b1 and the PoR's from SPI2 b4b3, so one packet may use a CC one way and an RC
  the other;
* CC: DES/3DES CBC-MAC (zero IV, zero padding, last block) or AES-CMAC, leftmost 8 bytes;
  RC: CRC32 (zlib) or CRC16 (ISO/IEC 13239 FCS, CRC-16/X-25), big-endian;
* command: CPL CHL SPI KIc KID TAR | CNTR PCNTR RC/CC data padding, the RC/CC over CPL..end
  (padding included), ciphering CNTR..end; PoR: 02 71 00 RPL RHL TAR | CNTR PCNTR status
  RC/CC data padding, the RC/CC over UDH..end.

Where pySim (https://github.com/osmocom/pysim, pySim/ota.py) can produce the same packet — a
ciphered command with a CC or an RC, and checking a PoR's CC — the generator also runs pySim
and asserts that it agrees ("cross_checked" in the vector).

Run with the pySim venv: /work/ext/pysim-venv/bin/python tools/gen-scp80-kid-vectors.py
[--pysim /work/ext/pysim] > test-vectors/scp80-kid-modes.json
"""

import json
import sys
import zlib

from Cryptodome.Cipher import AES, DES, DES3
from Cryptodome.Hash import CMAC

PYSIM = None
if "--pysim" in sys.argv:
    sys.path.insert(0, sys.argv[sys.argv.index("--pysim") + 1])
    from pySim import ota as PYSIM  # noqa: E402


def crc16_x25(data: bytes) -> int:
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


assert crc16_x25(b"123456789") == 0x906E

# (name, kic_alg, kic_key, kic_index, kid_alg, kid_key, kid_index)
K16A = bytes.fromhex("01020304050607080910111213141516")
K16B = bytes.fromhex("a1a2a3a4a5a6a7a8b1b2b3b4b5b6b7b8")
K24A = bytes.fromhex("0102030405060708101112131415161720212223242526ff")
K24B = bytes.fromhex("f0e1d2c3b4a5968778695a4b3c2d1e0f0011223344556677")
K32B = bytes.fromhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
KEYSETS = [
    ("3des2-3des2mac", "3des2", K16A, 1, "3des2-mac", K16B, 1),
    ("3des3-3des3mac", "3des3", K24A, 2, "3des3-mac", K24B, 2),
    ("des-desmac", "des-cbc", K16A[:8], 3, "des-mac", K16B[:8], 3),
    ("desecb-desmac", "des-ecb", K16A[8:], 4, "des-mac", K16B[8:], 4),
    ("aes128-cmac", "aes-cbc", K16A, 5, "aes-cmac", K16B, 5),
    ("aes256-cmac", "aes-cbc", K32B, 6, "aes-cmac", K32B[::-1], 6),
    ("aes128-cmac192", "aes-cbc", K16A, 7, "aes-cmac", K24B, 7),
    # A keyset declared as CRC32 but holding a 16-byte key: nibble 5 is 3DES-2key for a CC.
    ("3des2-crc32key", "3des2", K16A, 8, "crc32", K16B, 8),
    # A keyset declared as CRC16 holding an 8-byte key: nibble 1 is DES for a CC.
    ("3des2-crc16key", "3des2", K16A, 9, "crc16", K16B[:8], 9),
    # Keyless CRCs: a CC cannot be computed (error vectors), an RC can.
    ("none-crc32", None, b"", 10, "crc32", b"", 10),
    ("aes128-crc16", "aes-cbc", K16A, 11, "crc16", b"", 11),
]

KIC_NIBBLE = {"des-cbc": 1, "3des2": 5, "3des3": 9, "des-ecb": 0xD, "aes-cbc": 2}
KID_NIBBLE = {"des-mac": 1, "3des2-mac": 5, "3des3-mac": 9, "aes-cmac": 2, "crc16": 1, "crc32": 5}
CC_BY_NIBBLE = {1: ("des-mac", 8), 5: ("3des2-mac", 16), 9: ("3des3-mac", 24), 2: ("aes-cmac", None)}
RC_BY_NIBBLE = {1: "crc16", 5: "crc32"}


def block_cipher(alg, key):
    if alg in ("des-cbc",):
        return DES.new(key, DES.MODE_CBC, iv=bytes(8)), 8
    if alg == "des-ecb":
        return DES.new(key, DES.MODE_ECB), 8
    if alg in ("3des2", "3des3"):
        return DES3.new(key, DES3.MODE_CBC, iv=bytes(8)), 8
    if alg == "aes-cbc":
        return AES.new(key, AES.MODE_CBC, iv=bytes(16)), 16
    raise ValueError(alg)


def encrypt(alg, key, data):
    c, bs = block_cipher(alg, key)
    assert len(data) % bs == 0
    return c.encrypt(data)


def integrity_alg(mode, kid_alg, kid_key):
    """(algorithm name, length) for `mode`, or raise ValueError with the reason."""
    nib = KID_NIBBLE[kid_alg]
    if mode == "rc":
        if nib not in RC_BY_NIBBLE:
            raise ValueError(f"KID nibble {nib:X} codes no redundancy check")
        a = RC_BY_NIBBLE[nib]
        return a, 2 if a == "crc16" else 4
    name, klen = CC_BY_NIBBLE[nib]
    if not kid_key:
        raise ValueError(f"no KID key for a cryptographic checksum ({name})")
    if klen is not None and len(kid_key) != klen:
        raise ValueError(f"KID key of {len(kid_key)} bytes cannot do {name}")
    return name, 8


def integrity(alg, key, data):
    if alg == "crc32":
        return (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    if alg == "crc16":
        return crc16_x25(data).to_bytes(2, "big")
    if alg == "aes-cmac":
        return CMAC.new(key, msg=data, ciphermod=AES).digest()[:8]
    padded = data + bytes((8 - len(data) % 8) % 8) if data else bytes(8)
    c = DES.new(key, DES.MODE_CBC, iv=bytes(8)) if alg == "des-mac" else DES3.new(key, DES3.MODE_CBC, iv=bytes(8))
    return c.encrypt(padded)[-8:]


def command(ks, spi, tar, cntr, data, mode):
    name, kic_alg, kic_key, kic_i, kid_alg, kid_key, kid_i = ks
    ciph = bool(spi[0] & 0x04)
    if mode == "none":
        ilen, ialg = 0, None
    else:
        ialg, ilen = integrity_alg(mode, kid_alg, kid_key)
    bs = block_cipher(kic_alg, kic_key)[1] if ciph else 1
    pad = (bs - (6 + ilen + len(data)) % bs) % bs
    chl = 13 + ilen
    cpl = 1 + chl + len(data) + pad
    kic = (kic_i << 4) | (KIC_NIBBLE[kic_alg] if kic_alg else 0)
    kid = (kid_i << 4) | KID_NIBBLE[kid_alg]
    hdr = cpl.to_bytes(2, "big") + bytes([chl]) + spi + bytes([kic, kid]) + tar
    cnt = cntr + bytes([pad])
    body = data + bytes(pad)
    ic = integrity(ialg, kid_key, hdr + cnt + body) if ialg else b""
    sec = cnt + ic + body
    if ciph:
        sec = encrypt(kic_alg, kic_key, sec)
    return ialg, hdr + sec


def por(ks, spi, tar, cntr, status, data, mode):
    name, kic_alg, kic_key, kic_i, kid_alg, kid_key, kid_i = ks
    ciph = bool(spi[1] & 0x10)
    if mode == "none":
        ilen, ialg = 0, None
    else:
        ialg, ilen = integrity_alg(mode, kid_alg, kid_key)
    bs = block_cipher(kic_alg, kic_key)[1] if ciph else 1
    pad = (bs - (7 + ilen + len(data)) % bs) % bs
    rhl = 10 + ilen
    rpl = 1 + rhl + len(data) + pad
    head = bytes([0x02, 0x71, 0x00]) + rpl.to_bytes(2, "big") + bytes([rhl]) + tar
    cnt = cntr + bytes([pad, status])
    body = data + bytes(pad)
    ic = integrity(ialg, kid_key, head + cnt + body) if ialg else b""
    sec = cnt + ic + body
    if ciph:
        sec = encrypt(kic_alg, kic_key, sec)
    return ialg, head + sec


PYSIM_KIC = {"des-cbc": "single_des", "3des2": "triple_des_cbc2", "3des3": "triple_des_cbc3", "aes-cbc": "aes_cbc"}
PYSIM_KID = {"des-mac": "single_des", "3des2-mac": "triple_des_cbc2", "3des3-mac": "triple_des_cbc3", "aes-cmac": "aes_cmac"}
MODES = {0: "none", 1: "rc", 2: "cc"}


def pysim_spi(spi):
    return PYSIM.SPI.parse(spi)


def pysim_check_command(ks, spi, tar, cntr, data, mode, got):
    """Ciphered commands with a CC or RC, 3DES/AES keysets pySim can express: must agree."""
    name, kic_alg, kic_key, kic_i, kid_alg, kid_key, kid_i = ks
    if PYSIM is None or not (spi[0] & 0x04) or mode == "none":
        return False
    if kic_alg not in ("3des2", "aes-cbc") or kid_alg not in ("3des2-mac", "aes-cmac"):
        return False
    otak = PYSIM.OtaKeyset(PYSIM_KIC[kic_alg], kic_i, kic_key, PYSIM_KID[kid_alg], kid_i, kid_key,
                           int.from_bytes(cntr, "big"))
    out = PYSIM.OtaDialectSms().encode_cmd(otak, tar, pysim_spi(spi), data)
    assert out == got, (name, spi.hex(), out.hex(), got.hex())
    return True


def pysim_check_por(ks, spi, ud, mode, status, data):
    """PoRs with a CC or none, 3DES/AES keysets: pySim must decode and verify them."""
    name, kic_alg, kic_key, kic_i, kid_alg, kid_key, kid_i = ks
    if PYSIM is None or mode == "rc":
        return False
    if kic_alg not in ("3des2", "aes-cbc") or kid_alg not in ("3des2-mac", "aes-cmac"):
        return False
    if not (spi[1] & 0x10) and mode == "none":
        return False
    otak = PYSIM.OtaKeyset(PYSIM_KIC[kic_alg], kic_i, kic_key, PYSIM_KID[kid_alg], kid_i, kid_key, 0)
    res, _ = PYSIM.OtaDialectSms().decode_resp(otak, pysim_spi(spi), ud)
    assert bytes(res["secured_data"]) == data, (name, spi.hex(), ud.hex())
    return True


def main():
    vectors = []
    tar = bytes.fromhex("b00010")
    n = 0
    for ks in KEYSETS:
        name, kic_alg = ks[0], ks[1]
        for cmd_mode in (0, 1, 2):
            for cmd_ciph in (False, True):
                for por_mode in (0, 1, 2):
                    for por_ciph in (False, True):
                        if kic_alg is None and (cmd_ciph or por_ciph):
                            continue
                        n += 1
                        cmode, pmode = MODES[cmd_mode], MODES[por_mode]
                        # Counter mode alternates between 00 and 10 ("higher"); PoR required.
                        spi1 = cmd_mode | (0x04 if cmd_ciph else 0) | (0x10 if n % 2 else 0)
                        spi2 = 0x01 | (por_mode << 2) | (0x10 if por_ciph else 0)
                        spi = bytes([spi1, spi2])
                        cntr = n.to_bytes(5, "big")
                        data = bytes.fromhex("00a40004023f00a0c0000016")[: 7 + n % 6]
                        rdata = bytes.fromhex("01029000")[: 2 + n % 3] if n % 3 else bytes.fromhex("016132")
                        v = {
                            "id": f"{name}.cmd-{cmode}{'-ciph' if cmd_ciph else ''}.por-{pmode}{'-ciph' if por_ciph else ''}",
                            "keyset": {
                                "kic_alg": kic_alg,
                                "kic": ks[2].hex(),
                                "kic_index": ks[3],
                                "kid_alg": ks[4],
                                "kid": ks[5].hex(),
                                "kid_index": ks[6],
                            },
                            "spi": spi.hex(),
                            "tar": tar.hex(),
                            "cntr": cntr.hex(),
                            "data": data.hex(),
                        }
                        cross = []
                        try:
                            ialg, pkt = command(ks, spi, tar, cntr, data, cmode)
                            v["command"] = {"mode": cmode, "algorithm": ialg, "expected": pkt.hex()}
                            if pysim_check_command(ks, spi, tar, cntr, data, cmode, pkt):
                                cross.append("pySim OtaDialectSms.encode_cmd")
                        except ValueError as e:
                            v["command"] = {"mode": cmode, "error": str(e)}
                        try:
                            ialg, ud = por(ks, spi, tar, cntr, 0, rdata, pmode)
                            v["por"] = {"mode": pmode, "algorithm": ialg, "status": "00", "data": rdata.hex(),
                                        "expected": ud.hex()}
                            if pysim_check_por(ks, spi, ud, pmode, 0, rdata):
                                cross.append("pySim OtaDialectSms.decode_resp")
                        except ValueError as e:
                            v["por"] = {"mode": pmode, "error": str(e)}
                        v["cross_checked"] = cross
                        vectors.append(v)
    json.dump(vectors, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
