#!/usr/bin/env python3
"""Second implementation of Rekam's claim encoding (docs/format.md, "Claims"), written
from the spec with the Python standard library only. It prints the known-answer vectors
that client/core/tests/commit.rs pins, so the Rust code and this script must agree.

    python3 client/core/tests/vectors/claims_vectors.py
"""
import base64, hashlib, hmac, json

def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def hkdf_sha256(ikm: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()  # salt = none (RFC 5869)
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]

def claim_salt(record_salt: bytes, index: int) -> bytes:
    return hkdf_sha256(record_salt, b"rekam/v2/claim-salt" + index.to_bytes(4, "big"), 32)[:16]

def disclosure(salt: bytes, name: str, value) -> str:
    text = json.dumps([b64url(salt), name, value], separators=(",", ":"), ensure_ascii=False)
    return b64url(text.encode())

def leaf(i: int, n: int, digest: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + b"rekam-claim-v2" + i.to_bytes(4, "big") + n.to_bytes(4, "big") + digest).digest()

def node(l: bytes, r: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + l + r).digest()

def levels(digests):
    n = len(digests)
    level = [leaf(i, n, d) for i, d in enumerate(digests)]
    out = [level]
    while len(level) > 1:
        level = [node(level[k], level[k + 1]) if k + 1 < len(level) else level[k] for k in range(0, len(level), 2)]
        out.append(level)
    return out

def proof(lv, index):
    steps, pos = [], index
    for level in lv[:-1]:
        if pos % 2 == 1:
            steps.append(level[pos - 1])
        elif pos + 1 < len(level):
            steps.append(level[pos + 1])
        pos //= 2
    return steps

FACTS = [
    ("immunization.0", {"display": "Influenza, seasonal", "status": "completed", "vaccine": "http://hl7.org/fhir/sid/cvx|140"}),
    ("immunization.0.date", "2025-10-14T09:20:00Z"),
    ("observation.0", {"code": "http://loinc.org|4548-4", "unit": "%", "value": 5.9}),
    ("birth_year", 1976),
    ("age_over_18", True),
]

record_salt = bytes(range(32))
encoded = [disclosure(claim_salt(record_salt, i), n, v) for i, (n, v) in enumerate(FACTS)]
digests = [hashlib.sha256(e.encode()).digest() for e in encoded]
lv = levels(digests)
print("salt[0]", claim_salt(record_salt, 0).hex())
for i, e in enumerate(encoded):
    print(f"disclosure[{i}]", e)
    print(f"digest[{i}]", digests[i].hex())
print("root", lv[-1][0].hex())
print("proof[3]", ",".join(p.hex() for p in proof(lv, 3)))
print("proof[4]", ",".join(p.hex() for p in proof(lv, 4)))
