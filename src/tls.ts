// The HTTPS listener's TLS settings, read from the PEM files named in the config (docs/https.md).
// Everything is checked at start-up, so that a wrong file stops the gateway with a message naming the
// file and the fix, instead of failing the first device's handshake.
import { readFileSync } from 'node:fs';
import { createSecureContext, type TlsOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { InletConfig } from './config/schema.ts';

export interface LoadedTls {
  options: TlsOptions;
  /** The server certificate, for the start-up log (subject, expiry). */
  certificate: X509Certificate;
}

function readPem(file: string, setting: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${what} ${file} (${setting}) does not exist: create it (see docs/https.md) or correct the path`);
    if (code === 'EACCES' || code === 'EPERM') throw new Error(`${what} ${file} (${setting}) cannot be read: give the account Inlet runs as read access`);
    if (code === 'EISDIR') throw new Error(`${what} ${file} (${setting}) is a folder: name the PEM file itself`);
    throw new Error(`${what} ${file} (${setting}) cannot be read: ${(err as Error).message}`);
  }
}

/** `resolve` turns a configured path into an absolute one (relative paths are taken from the data folder). */
export function loadTlsOptions(https: InletConfig['https'], resolve: (file: string) => string): LoadedTls {
  if (!https.certFile || !https.keyFile) throw new Error('HTTPS is enabled but https.certFile or https.keyFile is empty: give the PEM files (see docs/https.md)');
  if (https.requireClientCert && !https.caFile) {
    throw new Error('https.requireClientCert is true but https.caFile is empty: name the CA bundle that signed the device certificates (for example the COMET root certificate)');
  }
  const certFile = resolve(https.certFile);
  const keyFile = resolve(https.keyFile);
  const cert = readPem(certFile, 'https.certFile', 'HTTPS certificate file');
  const key = readPem(keyFile, 'https.keyFile', 'HTTPS private key file');
  const ca = https.caFile ? readPem(resolve(https.caFile), 'https.caFile', 'client CA bundle') : undefined;

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`HTTPS certificate file ${certFile} (https.certFile) is not a PEM certificate (-----BEGIN CERTIFICATE-----): ${(err as Error).message}`);
  }
  if (ca) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new Error(`client CA bundle ${resolve(https.caFile)} (https.caFile) is not a PEM certificate bundle: ${(err as Error).message}`);
    }
  }
  const options: TlsOptions = {
    cert, key, ca,
    // Devices offer TLS 1.2 and 1.3; the TAx6xx SDK warns that a TLS-1.3-only server fails (spec §3.1).
    minVersion: 'TLSv1.2',
    // Ask for a device certificate only where there is a CA to check it against; without
    // requireClientCert a device without one is still served, and only verified ones are recorded.
    requestCert: ca !== undefined,
    rejectUnauthorized: https.requireClientCert,
  };
  try {
    createSecureContext(options);
  } catch (err) {
    const message = (err as Error).message;
    if (/key values mismatch/i.test(message)) {
      throw new Error(`HTTPS private key ${keyFile} (https.keyFile) does not belong to the certificate ${certFile} (https.certFile): use the key the certificate was made for`);
    }
    if (/bad decrypt|bad password|interrupted or cancelled/i.test(message)) {
      throw new Error(`HTTPS private key ${keyFile} (https.keyFile) is password-protected: store it without a password (openssl pkey -in key.pem -out key-plain.pem) and protect the file by its permissions`);
    }
    throw new Error(`HTTPS certificate ${certFile} or key ${keyFile} cannot be used: ${message}`);
  }
  return { options, certificate };
}
