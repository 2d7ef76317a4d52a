// A channel's quantity and unit, one shared frozen object per pair: the pipeline and the registry
// keep one per channel of every device (30,000 for a fleet of 10,000), and only a handful of pairs exist.
export interface ChannelKind { readonly quantity: string; readonly unit: string }

const kinds = new Map<string, Map<string, ChannelKind>>();

export function channelKind(quantity: string, unit: string): ChannelKind {
  let byUnit = kinds.get(quantity);
  if (!byUnit) { byUnit = new Map(); kinds.set(quantity, byUnit); }
  let kind = byUnit.get(unit);
  if (!kind) { kind = Object.freeze({ quantity, unit }); byUnit.set(unit, kind); }
  return kind;
}
