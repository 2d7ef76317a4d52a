// E-mail notifications over the customer's own SMTP server. An open alarm nobody has acknowledged
// is mailed to its location's recipients, mailed again every repeatMinutes, and escalated to the
// next list after escalateAfterMinutes; acknowledging or clearing it stops the mails. Offline and
// integrity alarms are alarms like the limit ones (routed by the device's location; integrity, which
// has no device, to the '*' routes). Other alarm-level events (a device suspended) are mailed once. planNotifications() is
// pure and decides; NotificationJob sends what it decided.
import nodemailer, { type Transporter } from 'nodemailer';
import type { InletConfig, NotificationRoute } from '../config/schema.ts';
import type { Device } from '../domain/types.ts';
import { splitZonePath } from '../domain/zones.ts';
import type { Store, StoredAlarm, StoredEvent } from '../store/store.ts';

const MINUTE = 60_000;

export interface Mail { to: string[]; subject: string; text: string }

/** What has been sent for one alarm on one route. */
export interface RouteState { lastSentAt: number; escalated: boolean }

export interface Plan { mails: Mail[]; state: Map<string, RouteState> }

/**
 * A route names a zone by its path ("Hospital/Pharmacy") and covers its sub-zones
 * ("Hospital/Pharmacy/Fridge room"); a device's location is its zone's path.
 */
export function routeCoversLocation(routeLocation: string, deviceLocation: string): boolean {
  if (routeLocation === '*') return true;
  const route = splitZonePath(routeLocation);
  const device = splitZonePath(deviceLocation);
  return route.length > 0 && route.length <= device.length && route.every((name, i) => name === device[i]);
}

function routesFor(routes: NotificationRoute[], device: Device | undefined): [number, NotificationRoute][] {
  return routes.map((r, i) => [i, r] as [number, NotificationRoute])
    .filter(([, r]) => r.location === '*' || (device !== undefined && routeCoversLocation(r.location, device.location)));
}

function where(device: Device | undefined, channel: number | null): string {
  if (!device) return 'Inlet';
  return `${device.name}${device.location ? ` (${device.location})` : ''}${channel === null ? '' : `, channel ${channel}`}`;
}

function alarmMail(alarm: StoredAlarm, device: Device | undefined, kind: 'raised' | 'repeat' | 'escalation', now: number): Omit<Mail, 'to'> {
  const minutes = Math.round((now - alarm.raisedAt) / MINUTE);
  const prefix = kind === 'escalation' ? 'ESCALATED: ' : kind === 'repeat' ? 'STILL UNACKNOWLEDGED: ' : '';
  return {
    subject: `${prefix}[Inlet ${alarm.level}] ${where(device, alarm.channel)}: ${alarm.message}`.slice(0, 200),
    text: [
      `${alarm.message}`,
      `Where: ${where(device, alarm.channel)}`,
      `Raised: ${new Date(alarm.raisedAt).toISOString()} (${minutes} min ago)${alarm.value === null ? '' : `, value ${alarm.value}`}`,
      'Acknowledge it in the Inlet viewer (Alarms) with a comment; until then this mail is repeated.',
    ].join('\n'),
  };
}

/** Decides which mails to send now; returns the new state (alarms no longer open are dropped from it). */
export function planNotifications(
  alarms: StoredAlarm[], devices: Map<number, Device>, routes: NotificationRoute[], previous: Map<string, RouteState>, now: number,
): Plan {
  const mails: Mail[] = [];
  const state = new Map<string, RouteState>();
  for (const alarm of alarms) {
    if (alarm.acknowledgedAt !== null || alarm.clearedAt !== null) continue;
    const device = alarm.deviceId === null ? undefined : devices.get(alarm.deviceId);
    for (const [index, route] of routesFor(routes, device)) {
      const key = `${alarm.id}:${index}`;
      const seen = previous.get(key);
      const next: RouteState = seen ? { ...seen } : { lastSentAt: now, escalated: false };
      if (!seen) mails.push({ to: route.to, ...alarmMail(alarm, device, 'raised', now) });
      else if (route.repeatMinutes > 0 && now - seen.lastSentAt >= route.repeatMinutes * MINUTE) {
        mails.push({ to: route.to, ...alarmMail(alarm, device, 'repeat', now) });
        next.lastSentAt = now;
      }
      if (!next.escalated && route.escalateAfterMinutes > 0 && route.escalateTo.length && now - alarm.raisedAt >= route.escalateAfterMinutes * MINUTE) {
        mails.push({ to: route.escalateTo, ...alarmMail(alarm, device, 'escalation', now) });
        next.escalated = true;
      }
      state.set(key, next);
    }
  }
  return { mails, state };
}

/** Events written beside an alarm of their own, which planNotifications mails (and repeats): not mailed again as events. */
const EVENTS_WITH_AN_ALARM = new Set(['device.offline', 'integrity.broken']);

/**
 * Alarm-level events without an alarm row (a device suspended) are mailed once, to every matching
 * route's first list. The alarm lifecycle's own events (alarm.*) and those in EVENTS_WITH_AN_ALARM
 * are not: planNotifications mails those alarms.
 */
export function planEventMails(events: StoredEvent[], devices: Map<number, Device>, routes: NotificationRoute[]): Mail[] {
  return events.filter((e) => e.level === 'alarm' && !e.type.startsWith('alarm.') && !EVENTS_WITH_AN_ALARM.has(e.type)).flatMap((e) => {
    const device = e.deviceId === null ? undefined : devices.get(e.deviceId);
    const to = [...new Set(routesFor(routes, device).flatMap(([, r]) => r.to))];
    return to.length ? [{ to, subject: `[Inlet event] ${where(device, null)}: ${e.message}`.slice(0, 200), text: `${e.message}\nWhen: ${new Date(e.at).toISOString()}\nType: ${e.type}` }] : [];
  });
}

export function createTransport(smtp: InletConfig['smtp']): Transporter {
  if (!smtp.host) throw new Error('"smtp.host" is empty: set the customer\'s SMTP server in the config before enabling notifications');
  return nodemailer.createTransport({
    host: smtp.host, port: smtp.port, secure: smtp.secure, requireTLS: smtp.requireTls,
    tls: { rejectUnauthorized: smtp.rejectUnauthorized },
    auth: smtp.user ? { user: smtp.user, pass: smtp.password } : undefined,
    // nothing leaves the LAN: no pooling tricks, no proxies, short timeouts
    connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000,
  });
}

export class NotificationJob {
  private readonly store: Pick<Store, 'alarms' | 'listDevices' | 'events'>;
  private readonly config: InletConfig;
  private readonly transport: Transporter;
  private readonly now: () => number;
  private state = new Map<string, RouteState>();
  /** Events up to this id were there before we started, or were mailed. */
  private eventWatermark: number | null = null;

  constructor(store: Pick<Store, 'alarms' | 'listDevices' | 'events'>, config: InletConfig, transport: Transporter, now: () => number = Date.now) {
    this.store = store;
    this.config = config;
    this.transport = transport;
    this.now = now;
  }

  async run(): Promise<string> {
    const now = this.now();
    const devices = new Map((await this.store.listDevices()).map((d) => [d.id, d]));
    const plan = planNotifications(await this.store.alarms({ open: true, limit: 10_000 }), devices, this.config.notifications.routes, this.state, now);
    const recent = await this.store.events({ limit: 500 });
    const newest = recent.reduce((m, e) => Math.max(m, e.id), 0);
    const fresh = this.eventWatermark === null ? [] : recent.filter((e) => e.id > this.eventWatermark!);
    const mails = [...plan.mails, ...planEventMails(fresh, devices, this.config.notifications.routes)];
    let sent = 0;
    const failures: string[] = [];
    for (const mail of mails) {
      try {
        await this.transport.sendMail({ from: this.config.smtp.from, to: mail.to.join(', '), subject: mail.subject, text: mail.text });
        sent++;
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    // After a failed send the run's decisions are not recorded, so the next run sends them all
    // again: a duplicate mail is better than a lost alarm.
    if (!failures.length) {
      this.state = plan.state;
      this.eventWatermark = Math.max(this.eventWatermark ?? 0, newest);
    } else if (this.eventWatermark === null) {
      this.eventWatermark = newest;
    }
    if (failures.length) throw new Error(`${failures.length} of ${mails.length} notification mail(s) failed: ${failures[0]}`);
    return `${sent} notification mail(s) sent`;
  }
}
