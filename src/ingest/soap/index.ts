// Web Sensors over SOAP 1.1. The device checks only the HTTP status (trap 6/10 "wrong
// response code"), never resends, and has no cache. Refusals answer their 4xx with a SOAP fault
// by default, so the sensor raises its own trap; config ingest.soap.refusals = 'ok' answers them
// 200 instead (the refusal is still archived and logged). Success answers the operation's
// <...Response/> in the request's namespace; a P-line (P85xx/P86xx) message is answered with its
// own root and namespace.
import type { Upload, Verdict } from '../../domain/types.ts';
import type { DeviceAnswer, IngestAdapter } from '../adapter.ts';
import { SOAP_NS_CO2, SOAP_NS_P, SOAP_NS_T, parseSoap } from './parse.ts';
import { INGEST_PATH_SEGMENT } from '../families.ts';

export interface SoapAdapterOptions {
  /** 'device-error' answers refusals with their 4xx so the sensor raises its own trap; 'ok' answers 200. */
  refusals: 'device-error' | 'ok';
}

function envelope(root: string, ns: string): string {
  return '<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Body><${root}Response xmlns="${ns}"/></soap:Body></soap:Envelope>`;
}

const RESPONSE_T = envelope('InsertTx5xxSample', SOAP_NS_T);
const RESPONSE_CO2 = envelope('InsertTx5xxCO2Sample', SOAP_NS_CO2);

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A P-line answer: the request's root (an XML name, so safe as is) and its namespace, escaped. */
function pLineResponse(root: string, namespace: string | null): string {
  return envelope(root, xmlEscape(namespace ?? SOAP_NS_P));
}

function faultEnvelope(code: 'Client' | 'Server', reason: string): string {
  const escaped = reason.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return '<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Body><soap:Fault><faultcode>soap:${code}</faultcode><faultstring>${escaped}</faultstring></soap:Fault></soap:Body></soap:Envelope>`;
}

export function createSoapAdapter(options: SoapAdapterOptions = { refusals: 'device-error' }): IngestAdapter {
  return {
    family: 'soap',
    pathSegment: INGEST_PATH_SEGMENT.soap,
    maxBodyBytes: 16 * 1024, // a real message is < 1 KiB
    parse: parseSoap,
    answer(verdict: Verdict, upload: Upload | null): DeviceAnswer {
      const contentType = 'text/xml; charset=utf-8';
      if (verdict.retryLater) return { status: 503, contentType, body: faultEnvelope('Server', verdict.reason) };
      if (verdict.kind === 'refused' && options.refusals === 'device-error') {
        return { status: verdict.httpStatus, contentType, body: faultEnvelope(verdict.httpStatus >= 500 ? 'Server' : 'Client', verdict.reason) };
      }
      const root = upload?.meta.root;
      if (upload?.meta.pLineProvisional && typeof root === 'string') {
        return { status: 200, contentType, body: pLineResponse(root, (upload.meta.namespace as string | null | undefined) ?? null) };
      }
      return { status: 200, contentType, body: root === 'InsertTx5xxCO2Sample' ? RESPONSE_CO2 : RESPONSE_T };
    },
  };
}
