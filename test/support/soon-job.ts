/** `test.soon`: a job that runs at once, with few deliveries (5), so that wasted ones show: a redelivery loop dead-letters it. */
import { z } from 'zod';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';

export const soonJob = defineJobType({ name: 'test.soon', description: 'returns at once', payload: z.object({}), maxAttempts: 1, maxDeliver: 5 });

export const soonHandler = defineHandler(soonJob, async () => ({ ran: true }));
