#!/usr/bin/env python3
"""Checks record-v2.json against docs/format.md ("Rekam encrypted record format, version 2")
with an implementation written from that text alone: Python's hashlib/hmac and the
`cryptography` package (X25519, AES-256-GCM), HPKE (RFC 9180, base mode,
DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) spelled out below.

    python3 client/core/tests/vectors/record_v2_vectors.py   # prints "ok: 3 vectors"
"""

import hashlib
import hmac
import json
import pathlib
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out, i = out + block, i + 1
    return out[:length]


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return expand(extract(salt, ikm), info, length)


# RFC 9180 labeled KDFs.
KEM_SUITE = b"KEM" + struct.pack(">H", 0x0020)
HPKE_SUITE = b"HPKE" + struct.pack(">HHH", 0x0020, 0x0001, 0x0002)


def labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return expand(prk, struct.pack(">H", length) + b"HPKE-v1" + suite + label + info, length)


def raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def derive_keypair(ikm: bytes) -> X25519PrivateKey:
    prk = labeled_extract(KEM_SUITE, b"", b"dkp_prk", ikm)
    return X25519PrivateKey.from_private_bytes(labeled_expand(KEM_SUITE, prk, b"sk", b"", 32))


def hpke_sender(pk_r: bytes, ikm_e: bytes, info: bytes):
    """SetupBaseS: returns (enc, key, base_nonce, exporter_secret)."""
    sk_e = derive_keypair(ikm_e)
    enc = raw(sk_e.public_key())
    dh = sk_e.exchange(X25519PublicKey.from_public_bytes(pk_r))
    eae_prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    shared = labeled_expand(KEM_SUITE, eae_prk, b"shared_secret", enc + pk_r, 32)
    psk_id_hash = labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = labeled_extract(HPKE_SUITE, shared, b"secret", b"")
    key = labeled_expand(HPKE_SUITE, secret, b"key", context, 32)
    base_nonce = labeled_expand(HPKE_SUITE, secret, b"base_nonce", context, 12)
    exporter = labeled_expand(HPKE_SUITE, secret, b"exp", context, 32)
    return enc, key, base_nonce, exporter


def check(v: dict) -> None:
    x = lambda name: bytes.fromhex(v[name])  # noqa: E731
    data_key, nonce_prefix, plaintext = x("data_key"), x("nonce_prefix"), x("plaintext")
    size, content_type = v["segment_size"], v["content_type"].encode()
    committed = (b"REKAMv2\x00" + struct.pack(">IQ", size, len(plaintext)) + nonce_prefix
                 + bytes([len(content_type)]) + content_type)
    assert committed == x("committed"), "committed"
    payload_key = hkdf(data_key, nonce_prefix, b"rekam/v2/payload")
    assert payload_key == x("payload_key"), "payload_key"
    commitment = hkdf(data_key, nonce_prefix, b"rekam/v2/commit" + hashlib.sha256(committed).digest())
    assert commitment == x("commitment"), "commitment"
    prefix = committed + commitment
    assert prefix == x("prefix"), "prefix"

    header = prefix + bytes([len(v["recipients"])])
    for r in v["recipients"]:
        pk_r = raw(derive_keypair(bytes.fromhex(r["ikm"])).public_key())
        assert pk_r.hex() == r["public_key"], "public key"
        enc, key, base_nonce, exporter = hpke_sender(pk_r, bytes.fromhex(r["ikm_e"]), b"rekam/v2/wrap")
        key_id = labeled_expand(HPKE_SUITE, exporter, b"sec", b"rekam/v2/key-id", 8)
        wrapped = AESGCM(key).encrypt(base_nonce, data_key, prefix)  # sequence number 0
        assert (key_id.hex(), enc.hex(), wrapped.hex()) == (r["key_id"], r["enc"], r["wrapped_key"]), "stanza"
        header += key_id + enc + wrapped
    assert header == x("header"), "header"
    header_hash = hashlib.sha256(header).digest()
    assert header_hash == x("header_hash"), "header_hash"

    count = max(1, -(-len(plaintext) // size))
    segments = []
    for i in range(count):
        nonce = nonce_prefix + struct.pack(">I", i) + bytes([i + 1 == count])
        segments.append(AESGCM(payload_key).encrypt(nonce, plaintext[i * size:(i + 1) * size], header_hash))
    assert [s.hex() for s in segments] == v["segments"], "segments"
    record = header + b"".join(segments)
    assert record == x("record") and hashlib.sha256(record).hexdigest() == v["record_sha256"], "record"


def main() -> None:
    path = pathlib.Path(__file__).with_name("record-v2.json")
    vectors = json.loads(path.read_text())["vectors"]
    for v in vectors:
        check(v)
    print(f"ok: {len(vectors)} vectors")


if __name__ == "__main__":
    main()
