// Where every event is linked into the audit chain. The refusal archive and sign-in records used to
// be written off the chain; since they are linked too (issue 18), an unlinked event is one inserted
// outside Inlet, and `inlet verify` reports it. Events written before this version may be unlinked:
// the marker event below says from which event on none may be. It is itself linked, so deleting it or
// moving it breaks the chain. On SQL Server, events that T-SQL procedures and the DBA's triggers
// write are linked by the gateway afterwards (migration 038, docs/sqlserver.md), every waiting event
// above the chain's head in id order, under the lock inlet.event_chain that every writer of events
// holds (039 for the DBA's triggers). So an event may wait unlinked after the chain's last linked
// event until the gateway's next write, but never before it: after the marker, an unlinked event that
// a linked one follows was inserted outside Inlet (with a chosen id, or around the lock).
import type { Store } from './store.ts';

export const EVERY_EVENT_LINKED_EVENT = 'audit.events.linked';

type MarkerStore = Pick<Store, 'kind' | 'events' | 'addEvent'>;

/** Writes the marker once, when the gateway starts on a store whose writers all link their events. */
export async function ensureEveryEventLinkedMarker(store: MarkerStore, at = Date.now()): Promise<void> {
  const [found] = await store.events({ type: EVERY_EVENT_LINKED_EVENT, limit: 1 });
  if (found) return;
  await store.addEvent({
    at, deviceId: null, type: EVERY_EVENT_LINKED_EVENT, level: 'info', actor: 'system', source: null,
    message: store.kind === 'sqlite'
      ? 'from this event on every event is linked into the audit chain (refused uploads and sign-ins too): an unlinked event after it was inserted outside Inlet'
      : 'from this event on every event is linked into the audit chain: an event written by the database waits for its link until the gateway\'s next write; an unlinked event after this one that a linked event follows was inserted outside Inlet',
    data: {},
  });
}

/** The id of the marker: unlinked events after it were inserted outside Inlet. Null: none is reported. */
export async function everyEventLinkedAfter(store: MarkerStore): Promise<number | null> {
  const [marker] = await store.events({ type: EVERY_EVENT_LINKED_EVENT, limit: 1 });
  return marker?.id ?? null;
}

const MAX_KEPT_WAITING = 1000;

/** An event that has no link, as the verification reports it. */
export interface UnlinkedEventSeen { id: number; type: string; message: string }

/**
 * Which unlinked events the walk of the audit chain (in id order) reports: on SQLite each one after
 * the marker at once; where events may wait for their link (SQL Server), those after the marker that
 * a linked event follows, and not those after the chain's last link (still waiting for the gateway's
 * next write). Pure: fed the walk's events, it returns the ones to report.
 */
export class UnlinkedEventWatch {
  private readonly waiting: UnlinkedEventSeen[] = [];
  private notKept = 0;
  private readonly linkedAfter: number | null;
  private readonly linksMayFollow: boolean;
  constructor(linkedAfter: number | null, linksMayFollow: boolean) {
    this.linkedAfter = linkedAfter;
    this.linksMayFollow = linksMayFollow;
  }

  /** An unlinked event; returns the events to report now. */
  unlinked(e: UnlinkedEventSeen): UnlinkedEventSeen[] {
    if (this.linkedAfter === null || e.id <= this.linkedAfter) return [];
    if (!this.linksMayFollow) return [e];
    // Kept bounded: a report lists only its first problems; the rest are counted by their ids below.
    if (this.waiting.length < MAX_KEPT_WAITING) this.waiting.push(e);
    else this.notKept++;
    return [];
  }

  /** A linked event: every unlinked event before it (after the marker) was passed over by the linking. */
  linked(): UnlinkedEventSeen[] {
    const passedOver = this.waiting.splice(0);
    if (this.notKept) {
      const last = passedOver[passedOver.length - 1];
      passedOver.push({ id: last.id, type: 'more events', message: `and ${this.notKept} more unlinked events after #${last.id}` });
      this.notKept = 0;
    }
    return passedOver;
  }

  /** Unlinked events after the chain's last link: waiting for the gateway's next write, not reported. */
  get stillWaiting(): number {
    return this.waiting.length + this.notKept;
  }
}
