import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run codegen`: server resolver types and the typed SDK, both from schema/.
 * `CODEGEN_OUT` (a directory) redirects every output there; test/unit/codegen.fresh.test.ts uses it to check
 * that the committed files are up to date.
 */
const out = (file: string) => (process.env.CODEGEN_OUT ? `${process.env.CODEGEN_OUT}/${file}` : file);

const config: CodegenConfig = {
  schema: 'schema/**/*.graphql',
  generates: {
    [out('src/graphql/generated/resolvers-types.ts')]: {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        contextType: '../context.js#GraphQLContext',
        useIndexSignature: true,
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'Date', JSON: 'unknown' },
        mappers: {
          Job: '../../db/schema.js#JobRow',
          JobUpdate: '../../messaging/messages.js#JobUpdateMessage',
          JobConnection: '../../jobs/queries.js#Connection',
          JobType: '../../jobs/pauses.js#JobTypeView',
          NotificationDelivery: '../../db/notifications.js#DeliveryToSend',
          Schedule: '../../db/schedules.js#ScheduleRow',
        },
        inputMaybeValue: 'T | null | undefined',
      },
    },
    [out('sdk/generated/')]: {
      preset: 'client',
      documents: ['sdk/operations/*.graphql'],
      config: {
        documentMode: 'string',
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSON: 'unknown' },
      },
      presetConfig: { fragmentMasking: false, gqlTagName: 'graphql' },
    },
  },
};
export default config;
