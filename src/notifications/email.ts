/**
 * Email delivery over SMTP (nodemailer, SMTP_URL). The message carries the same JSON as a webhook, a
 * `Longrun-Delivery-Id` header and a Message-ID derived from the delivery id, so a resend after a crash
 * can be recognised by the mailbox. A message the server refuses permanently (5xx) is not retried.
 * WEBHOOK_TIMEOUT_MS bounds the whole exchange: nodemailer's own timeouts only measure silence, so a server
 * that trickles its answers would otherwise hold the send (and a notifier slot) for ever.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { DeliveryToSend } from '../db/notifications.js';
import { DeliveryError, notificationBody } from './webhook.js';

export interface Mailer {
  send(d: DeliveryToSend): Promise<void>;
  close(): void;
}

export function createMailer(o: { url: string; from: string; timeoutMs: number }): Mailer {
  const transport: Transporter = nodemailer.createTransport(o.url, {
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
  } as never);
  return {
    async send(d) {
      const body = notificationBody(d);
      const job = body.job as { id: string; type: string; state: string; error: string | null; attempts: number; finishedAt: string | null };
      const lines = [
        `Job ${job.id} (${job.type}) is ${job.state}.`,
        '',
        `Attempts: ${job.attempts}`,
        `Finished: ${job.finishedAt ?? '-'}`,
        ...(job.error ? [`Error: ${job.error}`] : []),
        '',
        JSON.stringify(body, null, 2),
      ];
      const deadline = AbortSignal.timeout(o.timeoutMs);
      try {
        await transport.sendMail({
          signal: deadline, // closes the connection when it fires
          from: o.from,
          to: d.target,
          subject: `[longrun] ${job.type} ${job.state}: ${job.id}`,
          text: lines.join('\n'),
          messageId: `<${d.id}@longrun>`,
          headers: { 'Longrun-Delivery-Id': d.id, 'Longrun-Event': `job.${d.jobState}` },
        });
      } catch (e) {
        if (deadline.aborted) throw new DeliveryError(`SMTP: no answer within ${o.timeoutMs} ms`, false, { cause: e });
        const code = (e as { responseCode?: number }).responseCode;
        throw new DeliveryError(`SMTP: ${e instanceof Error ? e.message : String(e)}`, code !== undefined && code >= 500, { cause: e });
      }
    },
    close: () => transport.close(),
  };
}
