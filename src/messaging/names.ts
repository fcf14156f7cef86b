/**
 * Every NATS name longrun uses: streams, consumers and subjects, derived from one prefix so that several
 * installations (or test runs) can share a NATS server. Job type names may contain dots; in subjects they
 * become one token with `:` instead of `.`.
 */
import type { JobState } from '../jobs/state.js';

export interface Names {
  prefix: string;
  /** Work-queue stream of job messages. */
  jobsStream: string;
  /** Subject of a job type's messages. */
  jobSubject(type: string): string;
  /** Durable pull consumer of a job type (one per type, so types scale separately). */
  workerConsumer(type: string): string;
  /** Stream holding copies of dead-lettered job messages. */
  deadLetterStream: string;
  /**
   * Subject of a job's copies in the dead-letter stream, one per job, so its copy can be looked up before
   * another is made. Copies made before there was one (longrun before 2026-12-05) are on `<prefix>dead.<type>`.
   */
  deadLetterSubject(type: string, jobId: string): string;
  /** The subject of the copies an older longrun (before 2026-12-05) made of a type's jobs, one for all of them. */
  legacyDeadLetterSubject(type: string): string;
  /** The dead-letter stream's subjects: every copy's, per-job and older per-type. */
  deadLetterPattern: string;
  /** The type token (`typeToken`) a dead-letter copy's subject names, per-job or older per-type; null for another subject. */
  deadLetterTypeToken(subject: string): string | null;
  /** Stream capturing JetStream's MAX_DELIVERIES and MSG_TERMINATED advisories for the jobs stream. */
  advisoryStream: string;
  advisorySubjects: string[];
  /** Durable consumer of the dead-letter component on the advisory stream. */
  advisoryConsumer: string;
  /** Core-NATS subject of a job's live updates. */
  updateSubject(type: string, state: JobState, jobId: string): string;
  /**
   * Where the submissions of many jobs of a type go as one message (`jobsSubmittedSchema`): the type's QUEUED
   * subject with SUBMITTED_TOKEN for the id, which the type and state patterns take and no job's id pattern does.
   */
  submittedSubject(type: string): string;
  /** Wildcard for one job's updates. */
  jobUpdatesPattern(jobId: string): string;
  /** Wildcard for updates filtered by type (or any) and state (or any). */
  updatesPattern(type: string | null, state: JobState | null): string;
  /** Core-NATS subject that tells workers to abort a running job. */
  cancelSubject(jobId: string): string;
  cancelPattern: string;
  /** Core-NATS subject on which the worker that holds a job's attempt answers the dead-letter sweep. */
  heldSubject(jobId: string): string;
  heldPattern: string;
  /** Core-NATS subject on which workers hear that a job type was paused or resumed (`PauseChange`). */
  pausesSubject: string;
  /** Work-queue stream of notification deliveries to send (one message per delivery id). */
  notificationsStream: string;
  notificationSubject: string;
  /** Durable pull consumer of the notifier. */
  notifierConsumer: string;
}

/** The last token of `submittedSubject`: not a job id (a uuid), so no job's id pattern takes it. */
export const SUBMITTED_TOKEN = 'submitted';

/** `demo.sleep` → `demo:sleep` (one subject token). */
export const typeToken = (type: string): string => type.replaceAll('.', ':');
/** The job type a subject token names: `demo:sleep` → `demo.sleep` (`typeToken` undone). */
export const typeOfToken = (token: string): string => token.replaceAll(':', '.');

export function names(prefix: string): Names {
  const jobsStream = `${prefix}JOBS`;
  return {
    prefix,
    jobsStream,
    jobSubject: (type) => `${prefix}jobs.${typeToken(type)}`,
    workerConsumer: (type) => `${prefix}worker_${type.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    deadLetterStream: `${prefix}DEAD_LETTERS`,
    deadLetterSubject: (type, jobId) => `${prefix}dead.${typeToken(type)}.${jobId}`,
    legacyDeadLetterSubject: (type) => `${prefix}dead.${typeToken(type)}`,
    deadLetterPattern: `${prefix}dead.>`,
    deadLetterTypeToken: (subject) => (subject.startsWith(`${prefix}dead.`) ? subject.slice(`${prefix}dead.`.length).split('.')[0]! : null),
    advisoryStream: `${prefix}JOB_ADVISORIES`,
    advisorySubjects: [
      `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${jobsStream}.*`,
      `$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${jobsStream}.*`,
    ],
    advisoryConsumer: `${prefix}dead_letter_recorder`,
    updateSubject: (type, state, jobId) => `${prefix}job.${typeToken(type)}.${state}.${jobId}`,
    submittedSubject: (type) => `${prefix}job.${typeToken(type)}.QUEUED.${SUBMITTED_TOKEN}`,
    jobUpdatesPattern: (jobId) => `${prefix}job.*.*.${jobId}`,
    updatesPattern: (type, state) => `${prefix}job.${type ? typeToken(type) : '*'}.${state ?? '*'}.*`,
    cancelSubject: (jobId) => `${prefix}cancel.${jobId}`,
    cancelPattern: `${prefix}cancel.*`,
    heldSubject: (jobId) => `${prefix}held.${jobId}`,
    heldPattern: `${prefix}held.*`,
    pausesSubject: `${prefix}control.pauses`,
    notificationsStream: `${prefix}NOTIFICATIONS`,
    notificationSubject: `${prefix}notify.delivery`,
    notifierConsumer: `${prefix}notifier`,
  };
}
