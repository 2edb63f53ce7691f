// Outside oracle for Rekam's SMART Health Card export: verifies the card's compact JWS with
// `jose` (pinned in .ci/oracles) under the issuer's JWK, inflates the payload with Node's
// zlib, and checks the rules of SMART Health Cards 1.4 a card must meet. Prints one JSON
// line {"ok": true, "payload": {...}, "problems": []} or {"ok": false, ...}; exits 0 / 1.
//
//   NODE_PATH=.ci/oracles/node_modules node tests/oracles/shc_verify.js CARD_FILE JWKS_FILE [QR_TEXT]
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const jose = require('jose');

const [cardFile, jwksFile, qrText] = process.argv.slice(2);

(async () => {
  const problems = [];
  const card = JSON.parse(fs.readFileSync(cardFile, 'utf8'));
  const jws = card.verifiableCredential[0];
  const jwks = JSON.parse(fs.readFileSync(jwksFile, 'utf8'));
  const header = jose.decodeProtectedHeader(jws);
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid} in the JWKS`);
  // kid must be the RFC 7638 thumbprint of the key.
  if (await jose.calculateJwkThumbprint(jwk, 'sha256') !== jwk.kid) problems.push('kid is not the JWK thumbprint');
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || jwk.alg !== 'ES256' || jwk.use !== 'sig') problems.push('the JWK is not an ES256 signing key');
  const { payload, protectedHeader } = await jose.compactVerify(jws, await jose.importJWK(jwk, 'ES256'));
  if (protectedHeader.alg !== 'ES256' || protectedHeader.zip !== 'DEF') problems.push('header must say alg ES256, zip DEF');
  const body = JSON.parse(zlib.inflateRawSync(Buffer.from(payload)).toString('utf8'));
  // The payload is minified: re-serializing it compactly gives the same length.
  if (zlib.inflateRawSync(Buffer.from(payload)).length !== JSON.stringify(body).length) problems.push('the payload is not minified');
  if (!/^https:\/\/[^ ]+[^/]$/.test(body.iss)) problems.push('iss is not an https URL without a trailing slash');
  if (typeof body.nbf !== 'number') problems.push('nbf is not a number');
  const types = body.vc && body.vc.type;
  if (!Array.isArray(types) || !types.includes('https://smarthealth.cards#health-card')) problems.push('vc.type lacks health-card');
  const subject = body.vc.credentialSubject;
  if (subject.fhirVersion !== '4.0.1') problems.push('fhirVersion is not 4.0.1');
  const bundle = subject.fhirBundle;
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'collection') problems.push('not a collection Bundle');
  bundle.entry.forEach((e, i) => {
    if (e.fullUrl !== `resource:${i}`) problems.push(`entry ${i} fullUrl is not resource:${i}`);
    for (const forbidden of ['id', 'meta', 'text']) if (e.resource[forbidden] !== undefined) problems.push(`entry ${i} has ${forbidden}`);
    if (e.resource.resourceType === 'Immunization' && e.resource.patient.reference !== 'resource:0') problems.push(`entry ${i} patient is not resource:0`);
  });
  if (bundle.entry[0].resource.resourceType !== 'Patient') problems.push('entry 0 is not the Patient');
  if (jws.length > 1195) problems.push(`the JWS is ${jws.length} characters, over the single-QR limit of 1195`);
  if (qrText !== undefined) {
    // shc:/ then two digits per character (its code minus 45).
    const digits = qrText.replace(/^shc:\//, '');
    const decoded = digits.match(/../g).map((d) => String.fromCharCode(Number(d) + 45)).join('');
    if (!qrText.startsWith('shc:/') || decoded !== jws) problems.push('the QR text is not shc:/ + the numeric JWS');
  }
  console.log(JSON.stringify({ ok: problems.length === 0, payload: body, kid: header.kid, problems }));
  process.exit(problems.length === 0 ? 0 : 1);
})().catch((e) => {
  console.log(JSON.stringify({ ok: false, error: e.message }));
  process.exit(1);
});
