import type { CodegenConfig } from '@graphql-codegen/cli';

/** `npm run codegen`: server resolver types and the typed SDK, both from schema/. */
const config: CodegenConfig = {
  schema: 'schema/**/*.graphql',
  generates: {
    'src/graphql/generated/resolvers-types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        contextType: '../context.js#GraphQLContext',
        useIndexSignature: true,
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'Date', JSON: 'unknown' },
        mappers: { Job: '../../db/schema.js#JobRow', NotificationDelivery: '../../db/notifications.js#DeliveryToSend', JobUpdate: '../../messaging/messages.js#JobUpdateMessage' },
        inputMaybeValue: 'T | null | undefined',
      },
    },
  },
};
export default config;
