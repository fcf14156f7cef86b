/**
 * The worker's tracing and metrics around one job message: a `longrun.run` span per delivery (continuing
 * the trace in the message's `traceparent` header), a `longrun.attempt` span per handler run, and the
 * redelivery counter.
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { Context } from '@opentelemetry/api';
import { redeliveries } from '../src/observability/metrics.js';
import { contextFrom, inSpan, SpanKind } from '../src/observability/tracing.js';

/** Runs the handling of one delivery in a `longrun.run` span; `fn` gets the span's context. */
export function inRunSpan(m: JsMsg, type: string, fn: (ctx: Context) => Promise<void>): Promise<void> {
  const deliveries = m.info.deliveryCount;
  if (deliveries > 1) redeliveries.inc({ type });
  const attrs = { 'longrun.job_type': type, 'messaging.message.delivery_count': deliveries, 'messaging.destination.name': m.subject };
  return inSpan('longrun.run', contextFrom(m.headers?.get('traceparent') || null), attrs, (_span, ctx) => fn(ctx), SpanKind.CONSUMER);
}

/** Runs one handler attempt in a `longrun.attempt` span under the run. */
export function inAttemptSpan<T>(parent: Context, job: { id: string; attempts: number }, fn: () => Promise<T>): Promise<T> {
  return inSpan('longrun.attempt', parent, { 'longrun.job_id': job.id, 'longrun.attempt': job.attempts }, fn);
}
