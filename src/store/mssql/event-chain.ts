// The audit chain on SQL Server (sql/mssql/038_event_links.sql, docs/sqlserver.md "Events written by
// procedures"). Links are HMACs under the gateway's chain key, which the database never sees, so:
// - every transaction that writes events takes the application lock inlet.event_chain first and
//   holds it to its end: event ids are then handed out in the order the links are computed, and the
//   chain stays in id order, which is how `inlet verify` walks it;
// - events the database writes itself (procedures, the DBA's retention policy trigger) are written
//   without a link; the gateway links every such event after the chain's head, oldest first, before
//   it appends its own, in the same transaction.
import sql from 'mssql';
import { GENESIS_HASH } from '../../domain/chain.ts';
import { eventHash, type ChainedEventFields } from '../../domain/audit-chain.ts';
import type { EventLevel } from '../../domain/types.ts';
import type { NewEvent } from '../store.ts';

type Row = Record<string, unknown>;

/** binary(32): mssql's Binary takes a length at run time, though its type declarations omit it. */
const BINARY_32 = (sql.Binary as unknown as (length: number) => sql.ISqlType)(32);

/** An event as stored without a link, with the fields its link covers (recorded_at may be missing on rows of old versions). */
export type UnlinkedEvent = Omit<ChainedEventFields, 'recordedAt'> & { id: number; recordedAt: number | null };

/** An event to append, with its data as the text to store and the server's clock as recorded_at. */
export type EventToAppend = ChainedEventFields;

export interface ChainLinks {
  /** Links for the events that were waiting, by id. */
  links: { id: number; prevHash: Buffer; hash: Buffer }[];
  /** The new events, in order, with their links. */
  appended: (EventToAppend & { prevHash: Buffer; hash: Buffer })[];
  /** The chain's head after all of them. */
  head: Buffer;
}

/**
 * Links the waiting events (oldest first), then the new ones, each to the one before: the same
 * links `inlet verify` recomputes walking the chain in id order. Pure.
 */
export function linkEvents(head: Uint8Array | null, waiting: UnlinkedEvent[], toAppend: EventToAppend[], key: Uint8Array | null): ChainLinks {
  let prev: Buffer = Buffer.from(head ?? GENESIS_HASH);
  const links = waiting.map((e) => {
    // Events from before migration 013 have no recorded_at; verify hashes them with 0.
    const hash = eventHash(prev, { ...e, recordedAt: e.recordedAt ?? 0 }, key);
    const link = { id: e.id, prevHash: prev, hash };
    prev = hash;
    return link;
  });
  const appended = toAppend.map((e) => {
    const hash = eventHash(prev, e, key);
    const linked = { ...e, prevHash: prev, hash };
    prev = hash;
    return linked;
  });
  return { links, appended, head: prev };
}

/** What the chain looked like under the lock: its head, the events waiting for a link, the server's clock. */
export interface ChainState { head: Buffer | null; waiting: UnlinkedEvent[]; serverNow: number }

export function toUnlinkedEvent(r: Row): UnlinkedEvent {
  return {
    id: Number(r.id), at: (r.at as Date).getTime(), recordedAt: r.recorded_at ? (r.recorded_at as Date).getTime() : null,
    deviceId: r.device_id === null ? null : Number(r.device_id), type: r.type as string, level: r.level as EventLevel,
    message: r.message as string, dataText: (r.data as string | null) ?? null, actor: (r.actor as string | null) ?? null,
    source: (r.source as string | null) ?? null,
  };
}

/** Takes inlet.event_chain for the rest of the transaction (THROW 50051 after lockTimeoutMs). */
export async function lockEventChain(tx: sql.Transaction, lockTimeoutMs: number): Promise<void> {
  await tx.request().input('lock_timeout_ms', sql.Int, lockTimeoutMs).query(`DECLARE @lock_result int;
    EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.event_chain', @LockMode = N'Exclusive',
        @LockOwner = N'Transaction', @LockTimeout = @lock_timeout_ms;
    IF @lock_result < 0 THROW 50051, N'timed out waiting for the event chain lock (another Inlet instance is writing events)', 1;`);
}

/** Under the lock (taken here; taking it again is free): the head, the waiting events and the server's clock, in one round trip. */
export async function readChainState(tx: sql.Transaction, lockTimeoutMs: number): Promise<ChainState> {
  const result = await tx.request().input('lock_timeout_ms', sql.Int, lockTimeoutMs).query<Row>(`SET NOCOUNT ON;
    DECLARE @lock_result int;
    DECLARE @head_id bigint;
    DECLARE @head_hash varbinary(32);
    EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.event_chain', @LockMode = N'Exclusive',
        @LockOwner = N'Transaction', @LockTimeout = @lock_timeout_ms;
    IF @lock_result < 0 THROW 50051, N'timed out waiting for the event chain lock (another Inlet instance is writing events)', 1;
    SELECT TOP (1) @head_id = e.id, @head_hash = e.hash FROM inlet.events AS e WHERE e.hash IS NOT NULL ORDER BY e.id DESC;
    SELECT @head_hash AS hash, CAST(SYSUTCDATETIME() AS datetime2(3)) AS server_now;
    SELECT e.id, e.occurred_at AS at, e.device_id, e.type, e.level, e.message, e.data, e.actor, e.source, e.recorded_at
    FROM inlet.events AS e
    WHERE e.id > COALESCE(@head_id, 0) AND e.hash IS NULL
    ORDER BY e.id;`);
  const [[state], waiting] = result.recordsets as unknown as Row[][];
  return { head: state.hash ? Buffer.from(state.hash as Uint8Array) : null, waiting: waiting.map(toUnlinkedEvent), serverNow: (state.server_now as Date).getTime() };
}

export function eventLinkTable(links: ChainLinks['links']): sql.Table {
  const linkRows = new sql.Table('inlet.event_link_rows');
  linkRows.columns.add('id', sql.BigInt, { nullable: false });
  linkRows.columns.add('prev_hash', BINARY_32, { nullable: false });
  linkRows.columns.add('hash', BINARY_32, { nullable: false });
  for (const l of links) linkRows.rows.add(l.id, l.prevHash, l.hash);
  return linkRows;
}

export function linkedEventTable(events: ChainLinks['appended']): sql.Table {
  const eventRows = new sql.Table('inlet.linked_event_rows');
  for (const [name, type, nullable] of [
    ['seq', sql.Int, false], ['occurred_at', sql.DateTime2(3), false], ['device_id', sql.Int, true], ['type', sql.VarChar(100), false],
    ['level', sql.VarChar(10), false], ['message', sql.NVarChar(sql.MAX), false], ['data', sql.NVarChar(sql.MAX), true],
    ['actor', sql.NVarChar(128), true], ['source', sql.NVarChar(128), true], ['recorded_at', sql.DateTime2(3), false],
    ['prev_hash', BINARY_32, false], ['hash', BINARY_32, false],
  ] as const) eventRows.columns.add(name, type, { nullable });
  events.forEach((e, seq) => eventRows.rows.add(seq, new Date(e.at), e.deviceId, e.type, e.level, e.message, e.dataText, e.actor, e.source,
    new Date(e.recordedAt), e.prevHash, e.hash));
  return eventRows;
}

/**
 * Links every event waiting for a link and appends `events` linked after them, in the caller's
 * transaction. Call it after a procedure that writes events, with the lock taken before the
 * procedure (lockEventChain), so that nobody else's event gets an id in between.
 */
export async function appendEvents(tx: sql.Transaction, events: NewEvent[], key: Uint8Array | null, lockTimeoutMs: number): Promise<void> {
  const state = await readChainState(tx, lockTimeoutMs);
  if (!state.waiting.length && !events.length) return;
  const toAppend = events.map((e): EventToAppend => ({
    at: e.at, recordedAt: state.serverNow, deviceId: e.deviceId, type: e.type, level: e.level, message: e.message,
    dataText: e.data ? JSON.stringify(e.data) : null, actor: e.actor !== undefined ? e.actor : 'system', source: e.source ?? null,
  }));
  const chained = linkEvents(state.head, state.waiting, toAppend, key);
  const request = tx.request();
  const statements: string[] = ['SET NOCOUNT ON;'];
  if (chained.links.length) {
    request.input('links', eventLinkTable(chained.links));
    statements.push('EXEC inlet.link_events @links = @links;');
  }
  if (chained.appended.length) {
    request.input('events', linkedEventTable(chained.appended));
    // ORDER BY on INSERT ... SELECT fixes the order identity values are given in: the order of the links.
    statements.push(`INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data, actor, source, recorded_at, prev_hash, hash)
      SELECT occurred_at, device_id, type, level, message, data, actor, source, recorded_at, prev_hash, hash
      FROM @events
      ORDER BY seq;`);
  }
  await request.query(statements.join('\n'));
}
