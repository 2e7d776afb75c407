// A throwaway CA and a server certificate for 127.0.0.1/localhost, made with node-forge, for
// testing registries over HTTPS with a custom CA. Not part of the public API.
import forge from "node-forge";

export interface TestPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

function cert(subjectCN: string, issuer: forge.pki.Certificate | undefined, signer: forge.pki.rsa.PrivateKey | undefined, isCA: boolean) {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const c = forge.pki.createCertificate();
  c.publicKey = keys.publicKey;
  c.serialNumber = `0${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  c.validity.notBefore = new Date(Date.now() - 3600_000);
  c.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  c.setSubject([{ name: "commonName", value: subjectCN }]);
  c.setIssuer(issuer ? issuer.subject.attributes : [{ name: "commonName", value: subjectCN }]);
  const ext: object[] = [{ name: "basicConstraints", cA: isCA }];
  if (isCA) ext.push({ name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true });
  else {
    ext.push({ name: "keyUsage", digitalSignature: true, keyEncipherment: true });
    ext.push({ name: "extKeyUsage", serverAuth: true });
    ext.push({ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }, { type: 2, value: "localhost" }] });
  }
  c.setExtensions(ext);
  c.sign(signer ?? keys.privateKey, forge.md.sha256.create());
  return { cert: c, keys };
}

/** Makes a CA and a server certificate it signed, valid for 127.0.0.1 and localhost. */
export function makeTestPki(): TestPki {
  const ca = cert("tbuild test CA", undefined, undefined, true);
  const server = cert("127.0.0.1", ca.cert, ca.keys.privateKey, false);
  return {
    caCert: forge.pki.certificateToPem(ca.cert),
    serverCert: forge.pki.certificateToPem(server.cert),
    serverKey: forge.pki.privateKeyToPem(server.keys.privateKey),
  };
}
