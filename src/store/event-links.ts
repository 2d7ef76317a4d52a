// Where every event is linked into the audit chain. The refusal archive and sign-in records used to
// be written off the chain; since they are linked too (issue 18), an unlinked event is one inserted
// outside Inlet, and `inlet verify` reports it. Events written before this version may be unlinked:
// the marker event below says from which event on none may be. It is itself linked, so deleting it or
// moving it breaks the chain. On SQL Server, events that T-SQL procedures write are linked by the
// gateway afterwards (migration 038, docs/sqlserver.md), so an event may wait unlinked until the
// gateway's next write: its stores get no marker and their unlinked events are not reported.
import type { Store } from './store.ts';

export const EVERY_EVENT_LINKED_EVENT = 'audit.events.linked';

type MarkerStore = Pick<Store, 'kind' | 'events' | 'addEvent'>;

/** Writes the marker once, when the gateway starts on a store whose writers all link their events. */
export async function ensureEveryEventLinkedMarker(store: MarkerStore, at = Date.now()): Promise<void> {
  if (store.kind !== 'sqlite') return;
  const [found] = await store.events({ type: EVERY_EVENT_LINKED_EVENT, limit: 1 });
  if (found) return;
  await store.addEvent({
    at, deviceId: null, type: EVERY_EVENT_LINKED_EVENT, level: 'info', actor: 'system', source: null,
    message: 'from this event on every event is linked into the audit chain (refused uploads and sign-ins too): an unlinked event after it was inserted outside Inlet',
    data: {},
  });
}

/** The id of the marker: unlinked events after it were inserted outside Inlet. Null: none is reported. */
export async function everyEventLinkedAfter(store: MarkerStore): Promise<number | null> {
  if (store.kind !== 'sqlite') return null;
  const [marker] = await store.events({ type: EVERY_EVENT_LINKED_EVENT, limit: 1 });
  return marker?.id ?? null;
}
