// An independent reading of a Rekam passport, written from docs/passport.md with Node's
// own zlib and crypto only: parses the card, recomputes each attestation's claims root
// from the disclosures and the multiproof, and checks the holder's Ed25519 signature.
// Usage: node passport_verify.js <RKP1:text> <program id, base58>
// Prints {"holder", "signature_ok", "attestations": [{address, count, root, claims}]};
// exits 1 on a malformed card or a bad signature.
"use strict";
const zlib = require("zlib");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function b58decode(s) {
  let n = 0n;
  for (const c of s) {
    const d = B58.indexOf(c);
    if (d < 0) throw new Error("not base58");
    n = n * 58n + BigInt(d);
  }
  const out = [];
  while (n > 0n) { out.unshift(Number(n % 256n)); n /= 256n; }
  for (const c of s) { if (c === "1") out.unshift(0); else break; }
  return Buffer.from(out);
}
function b58encode(buf) {
  let n = BigInt("0x" + (buf.toString("hex") || "0"));
  let s = "";
  while (n > 0n) { s = B58[Number(n % 58n)] + s; n /= 58n; }
  for (const b of buf) { if (b === 0) s = "1" + s; else break; }
  return s;
}
const sha256 = (...parts) => crypto.createHash("sha256").update(Buffer.concat(parts)).digest();
const u32be = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
const leaf = (i, n, d) => sha256(Buffer.from([0]), Buffer.from("rekam-claim-v2"), u32be(i), u32be(n), d);
const node = (l, r) => sha256(Buffer.from([1]), l, r);

function main() {
  const [text, programB58] = process.argv.slice(2);
  if (!text.startsWith("RKP1:")) throw new Error("no RKP1: prefix");
  const card = Buffer.from(text.slice(5), "base64url");
  if (card.subarray(0, 3).toString() !== "RKP" || card[3] !== 1) throw new Error("not a version 1 card");
  // The preset dictionary of format version 1, as zlib applies one to a raw stream.
  const dictionary = fs.readFileSync(path.join(__dirname, "../../client/core/src/passport/dictionary.txt"));
  const plain = zlib.inflateRawSync(card.subarray(4), { dictionary });
  let at = 0;
  const take = (n) => { if (at + n > plain.length) throw new Error("truncated"); const b = plain.subarray(at, at + n); at += n; return b; };
  const varint = () => { let v = 0n, shift = 0n; for (;;) { const b = take(1)[0]; v |= BigInt(b & 0x7f) << shift; if (!(b & 0x80)) return Number(v); shift += 7n; } };
  const holder = take(32);
  const issuedAt = varint(), validUntil = varint();
  const attestations = [];
  for (let a = varint(); a > 0; a--) {
    const address = take(32);
    const count = varint();
    const leaves = new Map();
    const claims = [];
    for (let c = varint(); c > 0; c--) {
      const index = varint();
      const json = take(varint());
      // The digest is over the base64url text of the JSON, as the issuer wrote it.
      const digest = sha256(Buffer.from(json.toString("base64url")));
      leaves.set(index, leaf(index, count, digest));
      const [, name, value] = JSON.parse(json.toString("utf8"));
      claims.push({ index, name, value });
    }
    const siblings = [];
    for (let p = varint(); p > 0; p--) siblings.push(take(32));
    // Replay the walk of docs/passport.md ("The multiproof").
    let known = leaves, width = count, next = 0;
    while (width > 1) {
      const up = new Map();
      const positions = [...known.keys()].sort((x, y) => x - y);
      for (let k = 0; k < positions.length; k++) {
        const pos = positions[k], h = known.get(pos);
        let parent;
        if (pos % 2 === 0) {
          if (pos + 1 >= width) parent = h;
          else if (positions[k + 1] === pos + 1) { parent = node(h, known.get(pos + 1)); k++; }
          else { if (next >= siblings.length) throw new Error("proof too short"); parent = node(h, siblings[next++]); }
        } else {
          if (next >= siblings.length) throw new Error("proof too short"); parent = node(siblings[next++], h);
        }
        up.set(Math.floor(pos / 2), parent);
      }
      known = up; width = Math.ceil(width / 2);
    }
    if (next !== siblings.length) throw new Error("proof too long");
    attestations.push({ address: b58encode(address), count, root: known.get(0).toString("hex"), claims });
  }
  const body = plain.subarray(0, at);
  const signature = take(64);
  if (at !== plain.length) throw new Error("bytes after the signature");
  const message = Buffer.concat([Buffer.from([0xff]), Buffer.from("rekam passport v1"), Buffer.from([0]), b58decode(programB58), body]);
  const key = crypto.createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), holder]), format: "der", type: "spki" });
  const signatureOk = crypto.verify(null, message, key, signature);
  console.log(JSON.stringify({ holder: b58encode(holder), issued_at: issuedAt, valid_until: validUntil, signature_ok: signatureOk, attestations }));
  process.exit(signatureOk ? 0 : 1);
}
try { main(); } catch (e) { console.log(JSON.stringify({ error: e.message })); process.exit(1); }
