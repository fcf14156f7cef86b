/**
 * GraphQL over HTTP at `/graphql`, served straight from `node:http` into Apollo's
 * `executeHTTPGraphQLRequest`: authenticate (before the body is read), read a JSON body up to the size
 * limit, run the operation, write the answer. Every request gets an `x-request-id`. A body that cannot be
 * read still gets a GraphQL-shaped JSON answer (too large: 413 PAYLOAD_TOO_LARGE; malformed: 400
 * BAD_REQUEST; an encoding we cannot read: 415 BAD_REQUEST).
 *
 * (Express, its router and body parser cost the API a fifth of its CPU per request; they still serve the
 * probes, /metrics and GraphiQL.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import accepts from 'accepts';
import { ErrorCode } from '../errors.js';
import { unavailableError } from '../graphql/errors.js';
import type { Authenticator, Principal } from '../auth/authenticate.js';
import { unauthenticated } from '../auth/authenticate.js';
import type { Logger } from '../log.js';
import { requestIdOf } from './request-id.js';

export interface GraphqlHttpOptions<C extends BaseContext> {
  apollo: ApolloServer<C>;
  auth: Authenticator;
  bodyLimitBytes: number;
  /** The operation's context, given the request's principal and id. */
  context(req: IncomingMessage, principal: Principal, requestId: string): C;
  log: Logger;
}

/** Why a body could not be read: the HTTP status and the answer's message and code. */
class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: ErrorCode,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** The request body as text, at most `limit` bytes once decoded; rejects with a BodyError. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (encoding === 'identity' && declared > limit) {
    req.resume();
    return Promise.reject(new BodyError(413, 'request body too large', ErrorCode.PAYLOAD_TOO_LARGE));
  }
  const decoder = DECODERS[encoding];
  if (encoding !== 'identity' && !decoder) {
    req.resume();
    return Promise.reject(new BodyError(415, `unsupported content encoding "${encoding}"`, ErrorCode.BAD_REQUEST));
  }
  const stream: Readable = decoder ? (req.pipe(decoder()) as unknown as Readable) : req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (e: BodyError) => {
      stream.removeAllListeners('data');
      req.unpipe();
      if (decoder) stream.destroy(); // frees the decompressor now, not at garbage collection
      req.resume(); // read and drop the rest, so the answer can be written
      reject(e);
    };
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) fail(new BodyError(413, 'request body too large', ErrorCode.PAYLOAD_TOO_LARGE));
      else chunks.push(chunk);
    });
    stream.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    stream.once('error', () =>
      fail(new BodyError(400, decoder ? 'the request body could not be decompressed' : 'bad request', ErrorCode.BAD_REQUEST)),
    );
    // A client gone mid-body: a piped request's decoder would wait for its end forever.
    if (decoder) req.once('error', () => fail(new BodyError(400, 'bad request', ErrorCode.BAD_REQUEST)));
  });
}

/** The JSON body of a JSON request (`{}` when empty); `undefined` for any other content type (Apollo answers 400). */
async function bodyOf(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type === undefined || !/^application\/json\s*(;|$)/i.test(type)) {
    req.resume();
    return undefined;
  }
  const charset = /;\s*charset\s*=\s*"?([\w-]+)"?/i.exec(type)?.[1]?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    req.resume();
    throw new BodyError(415, `unsupported charset "${charset}"`, ErrorCode.BAD_REQUEST);
  }
  const text = await readBody(req, limit);
  if (text.length === 0) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BodyError(400, 'malformed JSON in the request body', ErrorCode.BAD_REQUEST);
  }
}

/** A GraphQL error answer in the media type the client asked for (GraphQL over HTTP), else application/json. */
function sendError(req: IncomingMessage, res: ServerResponse, status: number, message: string, code: ErrorCode, headers: Record<string, string> = {}) {
  const type = accepts(req).type(['application/json', 'application/graphql-response+json']) || 'application/json';
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  res.writeHead(status, { ...headers, 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function graphqlOverHttp<C extends BaseContext>(o: GraphqlHttpOptions<C>): (req: IncomingMessage, res: ServerResponse) => void {
  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    res.setHeader('x-request-id', requestId);
    let principal: Principal | null;
    try {
      principal = await o.auth.authenticate(req.headers.authorization);
    } catch (e) {
      req.resume();
      // Classified as a resolver's error is (graphql/errors.ts): a backing service down is a 503.
      const down = unavailableError(e);
      if (!down) throw e;
      o.log.warn({ err: e, requestId }, 'GraphQL over HTTP: cannot authenticate, a backing service is unavailable');
      return sendError(req, res, 503, down.message, down.code);
    }
    if (!principal) {
      req.resume();
      const e = unauthenticated();
      return sendError(req, res, 401, e.message, e.code, { 'www-authenticate': 'Bearer' });
    }
    let body: unknown;
    try {
      body = await bodyOf(req, o.bodyLimitBytes);
    } catch (e) {
      if (!(e instanceof BodyError)) throw e;
      return sendError(req, res, e.status, e.message, e.code);
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const answer = await o.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method!.toUpperCase(), headers, search: q < 0 ? '' : url.slice(q), body },
      context: async () => o.context(req, principal, requestId),
    });
    for (const [key, value] of answer.headers) res.setHeader(key, value);
    res.statusCode = answer.status ?? 200;
    if (answer.body.kind === 'complete') {
      res.setHeader('content-length', Buffer.byteLength(answer.body.string));
      res.end(answer.body.string);
      return;
    }
    for await (const chunk of answer.body.asyncIterator) res.write(chunk);
    res.end();
  }
  return (req, res) => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    handle(req, res, requestId).catch((e: unknown) => {
      o.log.error({ err: e, requestId }, 'GraphQL over HTTP: the request failed');
      if (res.headersSent) res.destroy();
      else sendError(req, res, 500, 'internal error', ErrorCode.INTERNAL_SERVER_ERROR);
    });
  };
}
