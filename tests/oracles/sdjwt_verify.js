// Outside oracle for Rekam's SD-JWT export: verifies `<issuer JWT>~<disclosures>~<KB-JWT>`
// with the OpenWallet Foundation's `@sd-jwt/core` (pinned in .ci/oracles), using Node's own
// Ed25519 and SHA-256. Prints one JSON line: {"ok": true, "claims": {...}, "kb": {...}} or
// {"ok": false, "error": "..."}; exits 0 / 1.
//
//   NODE_PATH=.ci/oracles/node_modules node tests/oracles/sdjwt_verify.js FILE ISSUER_KEY_B64URL NONCE
//
// ISSUER_KEY is the issuer's Ed25519 public key (the Issuer account's authority, read from the
// chain by the test). The holder key comes from the credential's own `cnf.jwk`.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { SDJwtInstance } = require('@sd-jwt/core');

const [file, issuerX, nonce] = process.argv.slice(2);
const okp = (x) => crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
const edVerify = (key) => async (data, sig) =>
  crypto.verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
const hasher = async (data, alg) => {
  if (alg !== 'sha-256') throw new Error(`unexpected hash ${alg}`);
  return new Uint8Array(crypto.createHash('sha256').update(data).digest());
};

(async () => {
  const sdjwt = new SDJwtInstance({
    hasher,
    hashAlg: 'sha-256',
    verifier: edVerify(okp(issuerX)),
    kbVerifier: async (data, sig, payload) => edVerify(okp(payload.cnf.jwk.x))(data, sig),
  });
  try {
    const out = await sdjwt.verify(fs.readFileSync(file, 'utf8').trim(), {
      keyBindingNonce: nonce,
      requiredClaimKeys: ['rekam_attestation'],
    });
    console.log(JSON.stringify({ ok: true, claims: out.payload, kb: out.kb && out.kb.payload }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, error: String(e && e.message ? e.message : e) }));
    process.exit(1);
  }
})();
