/**
 * OpenTelemetry tracing. A trace starts at `submitJob` (continuing the caller's `traceparent` header, if
 * any), is stored with the job and its outbox entry, travels in the NATS `traceparent` header, and continues
 * in the worker and the notifier: spans `longrun.submit`, `longrun.publish`, `longrun.run` (one delivery
 * of a job message), `longrun.attempt` (one handler run) and `longrun.notify`.
 *
 * Spans are exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (`startTracing`); otherwise the
 * API is a no-op and the incoming `traceparent` is passed through unchanged. Contexts are passed explicitly
 * (no async context manager needed).
 */
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

export { SpanKind };

const propagator = new W3CTraceContextPropagator();
const getter = { get: (c: Record<string, string>, k: string) => c[k], keys: (c: Record<string, string>) => Object.keys(c) };
const setter = { set: (c: Record<string, string>, k: string, v: string) => void (c[k] = v) };

const tracer = () => trace.getTracer('longrun');

/** The context a W3C `traceparent` names (the root context when absent or malformed). */
export function contextFrom(traceparent: string | null | undefined): Context {
  return traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, getter) : ROOT_CONTEXT;
}

/** The `traceparent` of a span, or `fallback` when the span is not valid (tracing off and no parent). */
export function traceparentOf(span: Span, fallback: string | null = null): string | null {
  if (!trace.isSpanContextValid(span.spanContext())) return fallback;
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, setter);
  return carrier.traceparent ?? fallback;
}

/**
 * A `traceparent` header if it is one (W3C trace context: version, non-zero trace and parent ids, flags, in
 * lowercase hex), else null: an invalid one is ignored, as the spec asks, not stored and passed on.
 */
export const validTraceparent = (header: string | null | undefined): string | null =>
  header && /^(?!ff)[\da-f]{2}-(?!0{32})[\da-f]{32}-(?!0{16})[\da-f]{16}-[\da-f]{2}$/.test(header) ? header : null;

/** The trace id a `traceparent` carries (for logs). */
export const traceIdOf = (traceparent: string | null | undefined): string | undefined =>
  traceparent ? /^[\da-f]{2}-([\da-f]{32})-/.exec(traceparent)?.[1] : undefined;

/**
 * Whether spans are recorded: a tracer provider is registered (`startTracing`, or a test's own). Without
 * one every span is a no-op, and `inSpan` skips making them (a span, a context and a promise per job).
 */
export function tracingOn(): boolean {
  const provider = trace.getTracerProvider() as { getDelegateTracer?: (name: string) => unknown };
  return provider.getDelegateTracer ? provider.getDelegateTracer('longrun') !== undefined : true;
}

/** The span `inSpan` hands out with tracing off (not valid, so `traceparentOf` gives its fallback). */
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Starts a span under `parent` (end it yourself). */
export function startSpan(name: string, parent: Context, attributes: Attributes = {}, kind = SpanKind.INTERNAL): Span {
  return tracer().startSpan(name, { kind, attributes }, parent);
}

/** Runs `fn` in a span under `parent`: records an exception and the error status, always ends it. */
export async function inSpan<T>(
  name: string,
  parent: Context,
  attributes: Attributes,
  fn: (span: Span, ctx: Context) => Promise<T> | T,
  kind = SpanKind.INTERNAL,
): Promise<T> {
  if (!tracingOn()) return fn(NO_SPAN, parent);
  const span = startSpan(name, parent, attributes, kind);
  try {
    return await fn(span, trace.setSpan(parent, span));
  } catch (e) {
    span.recordException(e instanceof Error ? e : String(e));
    span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    span.end();
  }
}

/** Publishes an outbox entry in a `longrun.publish` span; `publish` gets the traceparent to send. */
export function inPublishSpan<T>(
  e: { subject: string; msgId: string; traceparent: string | null },
  publish: (traceparent: string | null) => Promise<T>,
): Promise<T> {
  const attrs = { 'messaging.destination.name': e.subject, 'messaging.message.id': e.msgId };
  return inSpan('longrun.publish', contextFrom(e.traceparent), attrs, (span) => publish(traceparentOf(span, e.traceparent)), SpanKind.PRODUCER);
}

/**
 * Registers an OTLP/HTTP exporter as the global tracer provider when `endpoint` is set; a no-op otherwise.
 * Returns the shutdown (flushes pending spans).
 */
export function startTracing(o: { endpoint: string | undefined; serviceName: string }): { shutdown(): Promise<void> } {
  if (!o.endpoint) return { shutdown: async () => {} };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${o.endpoint.replace(/\/$/, '')}/v1/traces` }))],
  });
  trace.setGlobalTracerProvider(provider);
  return { shutdown: () => provider.shutdown() };
}
