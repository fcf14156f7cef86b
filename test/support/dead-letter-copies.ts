/** What the dead-letter stream holds for one job, read with an app's own NATS connection. */
import type { Nats } from '../../src/messaging/connect.js';
import type { Names } from '../../src/messaging/names.js';

/** The job's copies in the dead-letter stream, as `seq:attempt series` (the series in the copied message). */
export async function deadLetterCopiesOf(d: { nats: Nats; names: Names }, id: string): Promise<string[]> {
  const info = await d.nats.jsm.streams.info(d.names.deadLetterStream);
  const found: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await d.nats.jsm.streams.getMessage(d.names.deadLetterStream, { seq }).catch(() => null);
    if (m?.header.get('Longrun-Job-Id') === id) found.push(`${seq}:${JSON.parse(new TextDecoder().decode(m.data)).series}`);
  }
  return found;
}
