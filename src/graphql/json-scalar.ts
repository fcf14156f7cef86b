/**
 * The `JSON` scalar: graphql-scalars' JSONResolver, except that an enum literal in a JSON literal
 * (`payload: { a: FOO }`) is refused. graphql-scalars reads one as `undefined`, so the key was dropped from
 * its object (a list got `null`) and the job was written with a payload the client did not send.
 */
import { GraphQLError, GraphQLScalarType, Kind, type EnumValueNode, type ValueNode } from 'graphql';
import { JSONResolver } from 'graphql-scalars';

/** The first enum literal in a literal value, if any. */
function enumIn(node: ValueNode): EnumValueNode | null {
  if (node.kind === Kind.ENUM) return node;
  const inner = node.kind === Kind.LIST ? node.values : node.kind === Kind.OBJECT ? node.fields.map((f) => f.value) : [];
  for (const v of inner) {
    const found = enumIn(v);
    if (found) return found;
  }
  return null;
}

export const JSONScalar = new GraphQLScalarType({
  ...JSONResolver.toConfig(),
  parseLiteral(node, variables) {
    const e = enumIn(node);
    if (e) throw new GraphQLError(`JSON cannot represent the enum value ${e.value}: write it as a string ("${e.value}")`, { nodes: e });
    return JSONResolver.parseLiteral(node, variables);
  },
});
