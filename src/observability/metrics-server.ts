/** `GET /metrics` on its own port, for a worker process run alone (METRICS_PORT); METRICS_TOKEN as on the API's. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { metricsHandler } from './metrics-endpoint.js';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** `token`: METRICS_TOKEN (unset = open); `log`: where a failed render is logged. */
export async function startMetricsServer(port: number, host: string, extra: Registry, token: string | undefined, log: Logger): Promise<MetricsServer> {
  const metrics = metricsHandler(extra, token, log);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    metrics(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
