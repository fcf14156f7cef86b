/**
 * Parsing and validation for GraphQL over WebSocket (graphql-ws parses and validates by itself; src/http/ws.ts
 * does it here instead, with the token limit and the depth/cost/alias rules of limits.ts). Valid documents
 * are kept by query text (validation reads the document alone), so 10,000 subscribers sending one query parse
 * it once; Apollo Server caches the same way over HTTP.
 */
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { limitRules, parseOptions, type QueryLimits } from './limits.js';

/** Valid documents kept, and the longest query text kept. */
const CACHED_DOCUMENTS = 500;
const CACHED_QUERY_CHARS = 8 * 1024;

/** `e` with `extensions.code` set (graphql-js' own errors have none). */
export const withCode = (e: GraphQLError, code: string) =>
  new GraphQLError(e.message, { nodes: e.nodes ?? null, source: e.source ?? null, positions: e.positions ?? null, extensions: { code } });

/** Answers a query's document, parsed and validated, or its errors (codes as Apollo gives them over HTTP). */
export function documentChecker(schema: GraphQLSchema, limits: QueryLimits): (query: string) => DocumentNode | GraphQLError[] {
  const rules = [...specifiedRules, ...limitRules(limits)];
  /** Least recently used first. */
  const documents = new Map<string, DocumentNode>();
  return (query) => {
    const hit = documents.get(query);
    if (hit) {
      documents.delete(query);
      documents.set(query, hit);
      return hit;
    }
    let document: DocumentNode;
    try {
      document = parse(query, parseOptions(limits));
    } catch (e) {
      return [withCode(e as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
    }
    const invalid = validate(schema, document, rules);
    if (invalid.length) return invalid.map((e) => (e.originalError ? e : withCode(e, 'GRAPHQL_VALIDATION_FAILED')));
    if (query.length <= CACHED_QUERY_CHARS) {
      documents.set(query, document);
      if (documents.size > CACHED_DOCUMENTS) documents.delete(documents.keys().next().value!);
    }
    return document;
  };
}
