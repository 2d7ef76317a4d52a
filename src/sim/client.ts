// Posts device messages over HTTP/1.1 keep-alive, as the devices do.
import http from 'node:http';
import https from 'node:https';

export interface PostResult { status: number; headers: http.IncomingHttpHeaders; body: string; ms: number }

/** `tls` (https only): the CA that signed the gateway's certificate, a client certificate and key, versions. */
export function createAgent(url: string, maxSockets = 1, tls: https.AgentOptions = {}): http.Agent {
  return url.startsWith('https:') ? new https.Agent({ keepAlive: true, maxSockets, ...tls }) : new http.Agent({ keepAlive: true, maxSockets });
}

export function post(url: string, body: string | Buffer, contentType: string, agent?: http.Agent, extraHeaders: Record<string, string> = {}): Promise<PostResult> {
  const started = performance.now();
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(target, {
      method: 'POST', agent,
      headers: { 'Content-Type': contentType, 'Content-Length': payload.length, ...extraHeaders },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
