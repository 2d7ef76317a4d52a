// What both processes of bench/isolation.ts need: the gateway's description written by
// isolation-server.ts, and one HTTP request timed from the moment it leaves.
import http from 'node:http';
import type { FleetDevice } from '../test/e2e/fleet.ts';

export interface IsolationInfo {
  url: string; port: number; dataDir: string; buildS: number; samples: number; exportDeviceId: number; exportFrom: number; exportTo: number;
  users: number; userPassword: string; fleet: FleetDevice[];
}

export function timedRequest(agent: http.Agent | undefined, url: string, method: string, body: Buffer | string, headers: Record<string, string>, timeoutMs = 60_000): Promise<{ status: number; ms: number; body: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { method, agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, body: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

