/**
 * Email notifications through a real local SMTP server (smtp-server) that checks what arrived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { eventually, startSmtpReceiver, type SmtpReceiver } from '../support/receivers.js';

const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code field message } } }
`;
const NOTIFICATIONS = /* GraphQL */ `
  query Job($id: ID!) { job(id: $id) { state notifications { id channel target jobState status attempts lastError } } }
`;

let t: TestApp;
let smtp: SmtpReceiver;
beforeAll(async () => {
  smtp = await startSmtpReceiver();
  t = await startTestApp({ config: { SMTP_URL: smtp.url, SMTP_FROM: 'longrun <jobs@longrun.test>' } });
});
afterAll(async () => {
  await t?.dispose();
  await smtp?.close();
});

/** Submits a job and waits until its first notification is SENT: its id, and the job as it reads then. */
async function submitUntilSent(input: Record<string, unknown>) {
  const r = await gql(t.url, SUBMIT, { input });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  const id = r.body.data.submitJob.job.id as string;
  const job = await eventually(async () => {
    const j = (await gql(t.url, NOTIFICATIONS, { id })).body.data.job;
    return j.notifications[0]?.status === 'SENT' ? j : undefined;
  }, 30_000, 'email sent');
  return { id, job };
}

describe('email notifications', () => {
  it('mails the outcome to the address given at submit', async () => {
    const { id, job } = await submitUntilSent({ type: 'demo.flaky', payload: { failures: 1, permanent: true }, maxAttempts: 1, notify: [{ email: 'ops@example.com' }] });
    expect(job.state).toBe('FAILED');
    const [n] = job.notifications;
    expect(n).toMatchObject({ channel: 'EMAIL', target: 'ops@example.com', jobState: 'FAILED', attempts: 1, lastError: null });

    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0]!;
    expect(mail.from).toBe('jobs@longrun.test');
    expect(mail.to).toEqual(['ops@example.com']);
    const unfolded = mail.raw.replace(/\r\n[ \t]+/g, ' ');
    expect(unfolded).toMatch(new RegExp(`^Subject: \\[longrun\\] demo\\.flaky FAILED: ${id}`, 'm'));
    expect(unfolded).toMatch(new RegExp(`^Longrun-Delivery-Id: ${n.id}`, 'mi'));
    expect(unfolded).toMatch(new RegExp(`^Message-ID: <${n.id}@longrun>`, 'mi'));
    expect(mail.raw).toContain(`Job ${id} (demo.flaky) is FAILED.`);
  });

  it('refuses an address that is not one', async () => {
    const r = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1, steps: 1 }, notify: [{ email: 'not-an-address' }] } });
    expect(r.body.data.submitJob.job).toBeNull();
    expect(r.body.data.submitJob.userErrors).toEqual([
      { code: 'INVALID_EMAIL', field: ['input', 'notify', '0', 'email'], message: 'not an email address' },
    ]);
    // Characters no mail address has and PostgreSQL cannot store (NUL), or that no mailer can send
    // (controls, an unpaired surrogate): refused the same way, with nothing written.
    // Nor is an address with an empty part between dots (a typo such as `example..com`), a dot at either end of
    // either side, or an invisible character (a zero-width space pasted with it): accepted, it failed only once the
    // job had finished, at the SMTP server, and the notification was lost.
    const typos = ['ops@example..com', 'ops@.example.com', 'ops@example.com.', '.ops@example.com', 'ops.@example.com', 'o..ps@example.com', 'ops@exam\u200bple.com'];
    for (const email of ['ops\u0000@example.com', 'ops@exa\u0007mple.com', 'o\ud800ps@example.com', ...typos]) {
      const bad = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1, steps: 1 }, notify: [{ email }] } });
      expect(bad.body.errors).toBeUndefined();
      expect(bad.body.data.submitJob.userErrors).toEqual([
        { code: 'INVALID_EMAIL', field: ['input', 'notify', '0', 'email'], message: 'not an email address' },
      ]);
    }
    expect((await t.env.sql`select count(*)::int as n from job_notifications`)[0]!.n).toBe(1); // the first test's
    // Addresses that are (quotes and IP-literal domains aside, which the check never took) still go through.
    for (const email of ["o'brien+jobs@mail.example.co.uk", 'ops-team@xn--bcher-kva.example', 'ops@exämple.com']) {
      const ok = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1, steps: 1 }, notify: [{ email }] } });
      expect(ok.body.data.submitJob.userErrors, email).toEqual([]);
    }
  });

  it('mails an address once however its domain is written (a domain has no case), with one delivery', async () => {
    const notify = [
      { email: 'Ops.Team@Example.COM', on: ['SUCCEEDED', 'FAILED'] },
      { email: 'Ops.Team@example.com', on: ['SUCCEEDED'] },
    ];
    const { id, job } = await submitUntilSent({ type: 'demo.sleep', payload: { ms: 1, steps: 1 }, notify });
    // The local part is the receiving server's to read: kept as written.
    expect(job.notifications).toEqual([expect.objectContaining({ channel: 'EMAIL', target: 'Ops.Team@example.com', jobState: 'SUCCEEDED' })]);
    await eventually(() => smtp.messages.find((m) => m.raw.includes(id)), 10_000, 'the mail arrives');
    expect(smtp.messages.filter((m) => m.raw.includes(id))).toHaveLength(1);
  });
});
