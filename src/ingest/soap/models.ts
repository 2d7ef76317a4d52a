// Model codes sent in the SOAP `device` / P-line `kind` element, and what each model measures.
//
// Codes: verified in COMET's SDK tables (shared/protocols §1.6 and §2: S3 soap-t+rh+p.txt v1.0 and
// soap-co2.txt v1.1 for the T-line, S4 Hx5xx SDK for the H-line, S5 p8xxx SDK for the P-line).
// Quantities: each row says where they come from:
//   'manual'   verified in COMET's Tx5xx user guide model table (IE-SNC-Tx5xx, spec source S1): T2514
//              is a barometer only, T3510 has no barometer, T7510/T7511 measure all three;
//   'inferred' our reading of COMET's model numbering and the family name (T0/T4 temperature,
//              T3 temperature + RH, T7 + barometer, T5 CO2, T6 CO2 + T + RH; the same digits in the
//              Tx6xx and Hx5xx lines), not yet checked against a model table;
//   'self'     P-line channels describe themselves in the message (no table needed).
// The table only drops the -9999 fillers of slots a model lacks. A slot the table does not expect
// that carries a real value is kept, stored and flagged (meta.unexpectedChannels and an event), so
// a wrong row here never loses a reading: it shows up in the event list instead.

export type SoapQuantity = 'temperature' | 'relative_humidity' | 'computed' | 'pressure' | 'co2';

export type SoapModelSource = 'manual' | 'inferred' | 'self';

export interface SoapModel {
  code: number;
  model: string;
  line: 'T' | 'T-CO2' | 'H' | 'H-CO2' | 'P';
  quantities: readonly SoapQuantity[];
  /** Where `quantities` comes from (see above). */
  source: SoapModelSource;
}

const T: readonly SoapQuantity[] = ['temperature'];
const P: readonly SoapQuantity[] = ['pressure'];
const TRH: readonly SoapQuantity[] = ['temperature', 'relative_humidity', 'computed'];
const TRHP: readonly SoapQuantity[] = ['temperature', 'relative_humidity', 'computed', 'pressure'];
const CO2: readonly SoapQuantity[] = ['co2'];
const CO2TRH: readonly SoapQuantity[] = ['temperature', 'relative_humidity', 'computed', 'co2'];

const TABLE: [number, string, SoapModel['line'], readonly SoapQuantity[], SoapModelSource][] = [
  // T-line T+RH+P schema (soap-t+rh+p.txt v1.0); Tx5xx models per the IE-SNC-Tx5xx model table
  [4106, 'T4511', 'T', T, 'inferred'], [4107, 'T3511', 'T', TRH, 'inferred'], [4124, 'T2514', 'T', P, 'manual'],
  [4129, 'T7511', 'T', TRHP, 'manual'], [4144, 'T0510', 'T', T, 'inferred'], [4145, 'T3510', 'T', TRH, 'manual'],
  [4146, 'T7510', 'T', TRHP, 'manual'],
  // Tx6xx (PoE) models, same schema (IE-SNC-Tx6xx-06 lists the models, not yet their quantities)
  [4173, 'T0610', 'T', T, 'inferred'], [4174, 'T4611', 'T', T, 'inferred'], [4175, 'T3610', 'T', TRH, 'inferred'],
  [4176, 'T3611', 'T', TRH, 'inferred'], [4177, 'T7610', 'T', TRHP, 'inferred'], [4178, 'T7611', 'T', TRHP, 'inferred'],
  [4195, 'T7613D', 'T', TRHP, 'inferred'],
  // T-line CO2 schema (soap-co2.txt v1.1)
  [4155, 'T5540', 'T-CO2', CO2, 'inferred'], [4158, 'T6540', 'T-CO2', CO2TRH, 'inferred'], [4161, 'T5541', 'T-CO2', CO2, 'inferred'],
  [4164, 'T6541', 'T-CO2', CO2TRH, 'inferred'], [4179, 'T6640', 'T-CO2', CO2TRH, 'inferred'], [4180, 'T5640', 'T-CO2', CO2, 'inferred'],
  [4191, 'T5545', 'T-CO2', CO2, 'inferred'], [4194, 'T6545', 'T-CO2', CO2TRH, 'inferred'], [4199, 'T5641', 'T-CO2', CO2, 'inferred'],
  [4200, 'T6641', 'T-CO2', CO2TRH, 'inferred'],
  // H-line (Hx5xx SDK)
  [4656, 'H4531', 'H', T, 'inferred'], [4657, 'H0530', 'H', T, 'inferred'], [4658, 'H3531', 'H', TRH, 'inferred'],
  [4659, 'H3530', 'H', TRH, 'inferred'], [4660, 'H7530', 'H', TRHP, 'inferred'], [4661, 'H7531', 'H', TRHP, 'inferred'],
  [4673, 'H3531R', 'H', TRH, 'inferred'], [4674, 'H4531R', 'H', T, 'inferred'], [4675, 'H7531R', 'H', TRHP, 'inferred'],
  [4676, 'H3536', 'H', TRH, 'inferred'],
  [4631, 'H5524', 'H-CO2', CO2, 'inferred'], [4637, 'H6520', 'H-CO2', CO2TRH, 'inferred'], [4640, 'H5521', 'H-CO2', CO2, 'inferred'],
  [4643, 'H6521', 'H-CO2', CO2TRH, 'inferred'],
  // P-line SOAP v2 (p8xxx-sdk soap.txt v2.0); channels are self-described there
  [4352, 'P8511', 'P', [], 'self'], [4353, 'P8541', 'P', [], 'self'], [4354, 'P8510', 'P', [], 'self'], [4355, 'P8610', 'P', [], 'self'],
  [4356, 'P8631', 'P', [], 'self'], [4358, 'P8611', 'P', [], 'self'], [4359, 'P8641', 'P', [], 'self'], [4360, 'P8652', 'P', [], 'self'],
  [4361, 'P8552', 'P', [], 'self'], [4362, 'P8653', 'P', [], 'self'],
];

export const SOAP_MODELS: ReadonlyMap<number, SoapModel> = new Map(
  TABLE.map(([code, model, line, quantities, source]) => [code, { code, model, line, quantities, source }]),
);

const BY_NAME: ReadonlyMap<string, SoapModel> = new Map([...SOAP_MODELS.values()].map((m) => [m.model.toUpperCase(), m]));

export function soapModelByName(name: string): SoapModel | undefined {
  return BY_NAME.get(name.trim().toUpperCase());
}

/** Known model names one typing slip away from `name` (a wrong, missing, extra or swapped character). */
export function similarSoapModels(name: string): string[] {
  const wanted = name.trim().toUpperCase();
  return [...BY_NAME.keys()].filter((known) => typingDistance(wanted, known) === 1).sort();
}

/** Optimal string alignment distance: edits, counting two swapped neighbours as one. */
function typingDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
