/** The SDK pointed at a test app. */
import { createClient, type LongrunClient } from '../../sdk/index.js';
import type { TestApp } from './app.js';

export const sdkFor = (t: TestApp, o: { token?: string } = {}): LongrunClient =>
  createClient({ url: t.url, wsUrl: t.wsUrl, token: o.token ?? t.key ?? undefined, reconnectDelayMs: 50 });
