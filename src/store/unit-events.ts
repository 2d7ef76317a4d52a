// The event a confirmed unit change appends, composed once for both adapters.
import type { ChangeAudit } from './store.ts';
import { channelRecord } from './audit-records.ts';
import { deviceRecord, unitVersionRecord } from './zone-records.ts';
import type { NewDevice } from './store.ts';

export function channelUnitEvent(
  deviceId: number, channel: number, old: { quantity: string; unit: string }, now: { quantity: string; unit: string },
  validFrom: number, by: string, reason: string, audit: ChangeAudit,
) {
  const signed = audit.signatureMeaning ? ` with electronic signature (${audit.signatureMeaning})` : '';
  return {
    at: validFrom, deviceId, type: 'channel.unit.changed', level: 'warning' as const, actor: by, source: audit.source ?? null,
    message: `channel ${channel}: ${old.quantity} in ${old.unit || '(no unit)'} → ${now.quantity} in ${now.unit || '(no unit)'} from ${new Date(validFrom).toISOString()} on, ` +
      `confirmed by ${by}${signed}; earlier samples keep their unit. Reason: ${reason}`,
    data: {
      channel, old, new: now, validFrom, by, reason,
      signature: audit.signatureMeaning ? { by, meaning: audit.signatureMeaning, at: validFrom } : null,
      records: [channelRecord({ deviceId, channel, ...now }), unitVersionRecord(deviceId, { channel, validFrom, ...now })],
    },
  };
}

/**
 * The channels a device is registered with (its model's), recorded with the device in one transaction;
 * with `device`, the device row's name and zone too (a device with no channels yet gets the event for that).
 */
export function channelsRegisteredEvent(
  deviceId: number, channels: { channel: number; quantity: string; unit: string }[], at: number,
  device?: Pick<NewDevice, 'family' | 'serial' | 'name' | 'zoneId'>,
) {
  return {
    at, deviceId, type: 'channel.recorded', level: 'info' as const, actor: 'system', source: null,
    message: channels.length ? `channels at registration: ${channels.map((c) => `${c.channel} ${c.quantity}${c.unit ? ` in ${c.unit}` : ''}`).join(', ')}`
      : 'no channels at registration (they are recorded when the device first sends them)',
    data: {
      channels,
      records: [
        ...channels.map((c) => channelRecord({ deviceId, ...c })), ...channels.map((c) => unitVersionRecord(deviceId, { ...c, validFrom: at })),
        ...(device ? [deviceRecord({ id: deviceId, ...device })] : []),
      ],
    },
  };
}
