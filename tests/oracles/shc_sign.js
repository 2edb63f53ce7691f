// Outside oracle: signs a SMART Health Card with `jose` (pinned in .ci/oracles), as another
// issuer's software would: the payload minified and raw-deflated by Node's zlib, a compact
// JWS with alg ES256, zip DEF and the key's kid. Prints the JWS.
//
//   NODE_PATH=.ci/oracles/node_modules node tests/oracles/shc_sign.js PRIVATE_JWK_FILE PAYLOAD_JSON
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const jose = require('jose');

const [keyFile, payloadJson] = process.argv.slice(2);
(async () => {
  const { jwk } = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
  const key = await jose.importJWK(jwk, 'ES256');
  const body = zlib.deflateRawSync(Buffer.from(JSON.stringify(JSON.parse(payloadJson))));
  const jws = await new jose.CompactSign(body)
    .setProtectedHeader({ alg: 'ES256', zip: 'DEF', kid: jwk.kid })
    .sign(key);
  process.stdout.write(jws);
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
