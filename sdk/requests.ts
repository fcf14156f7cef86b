/**
 * The SDK's requests over HTTP: a GraphQL document and its variables POSTed to the client's `url`, the answer
 * read as a GraphQL response, and every way it can fail turned into a `LongrunError` (NETWORK, TIMEOUT,
 * CLOSED, an HTTP answer that is not GraphQL, the server's own errors). The typed methods that use it are in
 * `sdk/client.ts`.
 */
import type { TypedDocumentString } from './generated/graphql.js';
import { errorOfHttpAnswer, LongrunError, type GraphQLErrorBody } from './errors.js';
import type { Post } from './http.js';

/**
 * Codes of a connection lost once the request may have gone out (node:http's reset and hang-up, fetch's
 * `other side closed`): the server may have done it, unlike a server never reached (ECONNREFUSED, ENOTFOUND).
 */
const LOST_AFTER_SENDING = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** The answer's text as a GraphQL response (an object with `data` or a list of `errors`); null when it is none. */
function parseGraphQLResponse<R>(text: string): { data?: R | null; errors?: GraphQLErrorBody[] } | null {
  let body: { data?: R | null; errors?: GraphQLErrorBody[] } | null;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof body === 'object' && body !== null && ('data' in body || Array.isArray(body.errors)) ? body : null;
}

export interface RequestOptions {
  /** The HTTP endpoint (`ClientOptions.url`). */
  url: string;
  /** How requests are sent (`ClientOptions.fetch`, or the built-in transport). */
  post: Post;
  /** The `Authorization` header, if any. */
  authorization: string | undefined;
  /** `ClientOptions.requestTimeoutMs`: 0, no limit. */
  timeoutMs: number;
}

export interface Requests {
  /** Runs a document whose variables are JSON text already (the submit batcher's inputs are). */
  post<R, V>(document: TypedDocumentString<R, V>, variablesJson: string): Promise<R>;
  /** Makes the requests made before it fail with CLOSED; later ones go out as usual. */
  close(): void;
}

/** The requests of one client (`createClient`). */
export function httpRequests(o: RequestOptions): Requests {
  const { post: doFetch, authorization, timeoutMs } = o;
  /**
   * Aborted by `close()` (and replaced): the requests made before it stop waiting, whatever sends them (the
   * built-in transport, or the caller's own `fetch`), and fail with CLOSED.
   */
  let closing = new AbortController();

  /**
   * Sends a document and reads the answer's text. Its signal aborts when `close()` is called (whatever sends
   * the request: the built-in transport, or the caller's own `fetch`) or after `timeoutMs`; a signal of its
   * own, whose listener and timer go when it settles: `AbortSignal.any` with the client's long-lived closing
   * signal keeps every request's signal in memory on Node 20.
   */
  async function exchange(document: { toString(): string }, variablesJson: string) {
    const closed = closing.signal;
    const stop = new AbortController();
    const onClose = () => stop.abort(closed.reason);
    closed.addEventListener('abort', onClose, { once: true });
    // Its timer does not hold the process.
    const timer = timeoutMs > 0 ? setTimeout(() => stop.abort(new DOMException('request timed out', 'TimeoutError')), timeoutMs).unref() : undefined;
    const failed = (e: unknown): never => {
      if (closed.aborted) throw new LongrunError('the client was closed while the request waited for its answer', 'CLOSED', [], { cause: e });
      if (stop.signal.aborted) {
        throw new LongrunError(`no answer from ${o.url} in ${timeoutMs} ms (the server may still have done it)`, 'TIMEOUT', [], { cause: e });
      }
      // fetch puts the system error in `cause`; node:http throws it.
      const err = e as { code?: string; cause?: { code?: string; message?: string } };
      const code = err.cause?.code ?? err.code;
      const detail = code ?? err.cause?.message ?? String(e);
      if (code && LOST_AFTER_SENDING.has(code)) {
        throw new LongrunError(`connection to ${o.url} lost before the answer (${detail}): the server may have done it`, 'NETWORK', [], { cause: e });
      }
      throw new LongrunError(`cannot reach ${o.url}: ${detail}`, 'NETWORK', [], { cause: e });
    };
    try {
      const res = await doFetch(o.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(authorization ? { authorization } : {}),
        },
        body: `{"query":${JSON.stringify(document.toString())},"variables":${variablesJson}}`,
        signal: stop.signal,
      }).catch(failed);
      return { res, text: await res.text().catch(failed) };
    } finally {
      clearTimeout(timer);
      closed.removeEventListener('abort', onClose);
    }
  }

  /** Runs a document whose variables are JSON text already (the submit batcher's inputs are). */
  async function post<R, V>(document: TypedDocumentString<R, V>, variablesJson: string): Promise<R> {
    const { res, text } = await exchange(document, variablesJson);
    const body = parseGraphQLResponse<R>(text);
    if (!body) {
      // Not a GraphQL answer (an HTML 404 page, a proxy's error, JSON or not): most often a URL without its
      // /graphql path.
      const shown = text.replace(/\s+/g, ' ').trim().slice(0, 120);
      throw errorOfHttpAnswer(
        `${o.url} answered HTTP ${res.status}, not a GraphQL response (is it longrun's /graphql endpoint?)${shown ? `: ${shown}` : ''}`,
        res.status,
        res.headers.get('retry-after'),
      );
    }
    if (body.errors?.length) throw LongrunError.from(body.errors);
    if (!body.data) throw new LongrunError(`HTTP ${res.status} without data`, 'INTERNAL_SERVER_ERROR');
    return body.data;
  }

  return {
    post,
    close() {
      closing.abort();
      closing = new AbortController();
    },
  };
}
