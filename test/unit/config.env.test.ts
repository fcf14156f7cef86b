/** The configuration as the environment gives it: a value that cannot be meant stops the start with its name. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { retentionAges } from '../../src/jobs/retention.js';

describe('loadConfig', () => {
  it('takes a value of only blanks as unset, as an empty one, not as 0', () => {
    // `PORT= ` in an env file: Number(' ') is 0, which was a random port, no workers, no shutdown grace.
    const c = loadConfig({ PORT: ' ', WORKER_CONCURRENCY: '  ', SHUTDOWN_GRACE_MS: '\t' });
    expect([c.PORT, c.WORKER_CONCURRENCY, c.SHUTDOWN_GRACE_MS]).toEqual([4000, 10, 10_000]);
  });

  it('reads numbers in decimal digits only: 0x50, 1e3 and 2.0 are refused, not taken as 80, 1000 and 2', () => {
    for (const v of ['0x50', '1e3', '2.0', '12abc']) {
      expect(() => loadConfig({ PORT: v })).toThrow(`invalid PORT=${JSON.stringify(v)}: must be a whole number in decimal digits`);
    }
    expect(loadConfig({ PORT: ' 8080 ', SHUTDOWN_GRACE_MS: '0' })).toMatchObject({ PORT: 8080, SHUTDOWN_GRACE_MS: 0 });
  });

  it('takes DATABASE_SILENCE_TIMEOUT_MS as 0 (off) or 1000 ms and up, 60 s unless set; refuses a few ms, which would cut every statement', () => {
    expect(loadConfig({}).DATABASE_SILENCE_TIMEOUT_MS).toBe(60_000);
    expect(loadConfig({ DATABASE_SILENCE_TIMEOUT_MS: '0' }).DATABASE_SILENCE_TIMEOUT_MS).toBe(0);
    expect(loadConfig({ DATABASE_SILENCE_TIMEOUT_MS: '1000' }).DATABASE_SILENCE_TIMEOUT_MS).toBe(1000);
    expect(() => loadConfig({ DATABASE_SILENCE_TIMEOUT_MS: '5' })).toThrow('DATABASE_SILENCE_TIMEOUT_MS');
  });

  it('reads SUBMIT_RATE_PER_SEC, which takes fractions, in decimal digits too: 0x50 and 1e3 are refused', () => {
    for (const v of ['0x50', '1e3', '.5', '5.', '-0']) {
      expect(() => loadConfig({ SUBMIT_RATE_PER_SEC: v })).toThrow(`invalid SUBMIT_RATE_PER_SEC=${JSON.stringify(v)}: must be a number in decimal digits`);
    }
    expect(loadConfig({ SUBMIT_RATE_PER_SEC: '0.25' }).SUBMIT_RATE_PER_SEC).toBe(0.25);
    expect(loadConfig({ SUBMIT_RATE_PER_SEC: ' 200 ' }).SUBMIT_RATE_PER_SEC).toBe(200);
  });

  it('reads WORKER_TYPE_CONCURRENCY as type=N entries, N 1..1000, each type once; refuses anything else, naming the entry', () => {
    expect(loadConfig({}).WORKER_TYPE_CONCURRENCY).toEqual(new Map());
    expect(loadConfig({ WORKER_TYPE_CONCURRENCY: ' demo.hash=2, report.build = 40 ,' }).WORKER_TYPE_CONCURRENCY).toEqual(
      new Map([['demo.hash', 2], ['report.build', 40]]),
    );
    for (const v of ['demo.hash', 'demo.hash=0', 'demo.hash=1001', 'demo.hash=2.5', 'demo.hash=0x10', '=3']) {
      expect(() => loadConfig({ WORKER_TYPE_CONCURRENCY: v })).toThrow(
        `invalid WORKER_TYPE_CONCURRENCY=${JSON.stringify(v)}: ${JSON.stringify(v)} is not type=N with N a whole number 1..1000`,
      );
    }
    expect(() => loadConfig({ WORKER_TYPE_CONCURRENCY: 'a.b=1,a.b=2' })).toThrow('a.b is listed twice');
  });

  it('refuses a first notification backoff longer than the longest, naming both', () => {
    expect(() => loadConfig({ NOTIFY_BACKOFF_MS: '600000', NOTIFY_BACKOFF_MAX_MS: '1000' })).toThrow(ConfigError);
    expect(() => loadConfig({ NOTIFY_BACKOFF_MS: '600000', NOTIFY_BACKOFF_MAX_MS: '1000' })).toThrow(
      'invalid NOTIFY_BACKOFF_MS="600000": must not exceed NOTIFY_BACKOFF_MAX_MS (1000)',
    );
    expect(loadConfig({ NOTIFY_BACKOFF_MS: '1000', NOTIFY_BACKOFF_MAX_MS: '1000' }).NOTIFY_BACKOFF_MS).toBe(1000);
    // Only the longest set, below the first's default: the message names the one that was set.
    expect(() => loadConfig({ NOTIFY_BACKOFF_MAX_MS: '1000' })).toThrow(
      'invalid NOTIFY_BACKOFF_MAX_MS="1000": must not be below NOTIFY_BACKOFF_MS (2000, its default)',
    );
  });

  it('takes a previous webhook secret of 16+ characters beside WEBHOOK_SECRET, refusing it alone or equal, without printing either', () => {
    const current = 'current-secret-0123456789';
    const previous = 'previous-secret-0123456789';
    expect(loadConfig({ WEBHOOK_SECRET: current, WEBHOOK_SECRET_PREVIOUS: previous })).toMatchObject({ WEBHOOK_SECRET: current, WEBHOOK_SECRET_PREVIOUS: previous });
    const refusals: [Record<string, string>, string][] = [
      [{ WEBHOOK_SECRET: current, WEBHOOK_SECRET_PREVIOUS: 'too-short' }, 'invalid WEBHOOK_SECRET_PREVIOUS (9 characters, not shown): at least 16 characters'],
      [{ WEBHOOK_SECRET: 'too-short', WEBHOOK_SECRET_PREVIOUS: previous }, 'invalid WEBHOOK_SECRET (9 characters, not shown): at least 16 characters'],
      [{ WEBHOOK_SECRET_PREVIOUS: previous }, 'invalid WEBHOOK_SECRET_PREVIOUS (26 characters, not shown): set WEBHOOK_SECRET too (the current secret)'],
      [{ WEBHOOK_SECRET: current, WEBHOOK_SECRET_PREVIOUS: current }, 'invalid WEBHOOK_SECRET_PREVIOUS (25 characters, not shown): the same as WEBHOOK_SECRET'],
    ];
    for (const [env, message] of refusals) {
      const err = (() => {
        try {
          loadConfig(env);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect(err!.message).toContain(message);
      expect(err!.message).not.toMatch(/too-short|current-secret|previous-secret/);
    }
  });

  it("refuses a URL setting without printing its password", () => {
    const refusals: [Record<string, string>, string][] = [
      [{ DATABASE_URL: 'postgres://app:s3cret word@db.example.com/longrun' }, 'invalid DATABASE_URL="postgres://app:***@db.example.com/longrun"'],
      [{ SMTP_URL: 'smtp://mailer:s3cret@word x@mail.example.com:587' }, 'invalid SMTP_URL="smtp://mailer:***@mail.example.com:587"'],
      [{ NATS_URL: 'nats://a:s3cret@n1:4222,ftp://b:s3cret@n2' }, 'invalid NATS_URL="nats://a:***@n1:4222,ftp://b:***@n2"'],
      // A comma in a password (legal in a URL), a token with no user, a password as a parameter.
      [{ SMTP_URL: 'smtp://mailer:pa,ss-s3cret@mail.example.com:587 x' }, 'invalid SMTP_URL="smtp://mailer:***@mail.example.com:587 x"'],
      [{ DATABASE_URL: 'postgres://app:pa,s3cret@db.example.com:5432/longrun x' }, 'invalid DATABASE_URL="postgres://app:***@db.example.com:5432/longrun x"'],
      [{ NATS_URL: 'nats://tok-s3cret@nats.example.com:4222,not a url' }, 'invalid NATS_URL="nats://***@nats.example.com:4222,not a url"'],
      [{ DATABASE_URL: 'postgres://db.example.com/longrun?user=app&password=s3cret x' }, 'invalid DATABASE_URL="postgres://db.example.com/longrun?user=app&password=***"'],
    ];
    for (const [env, message] of refusals) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(message);
      expect(() => loadConfig(env)).not.toThrow(/s3cret/);
    }
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/x' })).toThrow('invalid DATABASE_URL="mysql://db/x"');
  });

  it('refuses a WEBHOOK_ALLOWED_HOSTS entry that can match no host (a port, a leading dot), naming it; takes IPv6 literals', () => {
    // The list is matched on the URL's host alone: `hooks.example.com:8443` was taken and matched nothing, so every
    // webhook to that host was refused at submit, and the deliveries already waiting for it failed at their next send.
    const refusals: [string, string][] = [
      ['hooks.example.com:8443', 'hooks.example.com:8443 has a port: list the host alone (hooks.example.com); ports are not checked'],
      ['a.example.org, [::1]:8443', '[::1]:8443 has a port: list the host alone ([::1]); ports are not checked'],
      ['.example.com', '.example.com starts with a dot: list the subdomains as *.example.com'],
    ];
    for (const [value, message] of refusals) {
      expect(() => loadConfig({ WEBHOOK_ALLOWED_HOSTS: value }), value).toThrow(`invalid WEBHOOK_ALLOWED_HOSTS=${JSON.stringify(value)}: ${message}`);
    }
    expect(loadConfig({ WEBHOOK_ALLOWED_HOSTS: 'Hooks.Example.com, *.corp.example, ::1, [fd00::1], 10.0.0.5' }).WEBHOOK_ALLOWED_HOSTS).toEqual([
      'hooks.example.com',
      '*.corp.example',
      '::1',
      '[fd00::1]',
      '10.0.0.5',
    ]);
  });

  it('keeps finished jobs 30 days and FAILED ones 90 by default; 0 keeps them for ever; a negative age is refused', () => {
    const day = 86_400_000;
    expect(retentionAges(loadConfig({}))).toEqual({ SUCCEEDED: 30 * day, CANCELLED: 30 * day, FAILED: 90 * day });
    expect(retentionAges(loadConfig({ JOB_RETENTION_DAYS: '0' }))).toEqual({ FAILED: 90 * day });
    expect(retentionAges(loadConfig({ JOB_RETENTION_DAYS: '0', FAILED_JOB_RETENTION_DAYS: '0' }))).toBeNull();
    expect(() => loadConfig({ FAILED_JOB_RETENTION_DAYS: '-1' })).toThrow('invalid FAILED_JOB_RETENTION_DAYS="-1"');
  });

  it('takes METRICS_TOKEN of 16+ printable characters, refuses an empty one (not read as unset, which is open) and never prints it', () => {
    expect(loadConfig({}).METRICS_TOKEN).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: 'metrics-token-0123456789' }).METRICS_TOKEN).toBe('metrics-token-0123456789');
    const refusals: [string, string][] = [
      ['', 'invalid METRICS_TOKEN (0 characters, not shown): empty; set a token (16+ characters) or leave METRICS_TOKEN unset for an open /metrics'],
      ['   ', 'invalid METRICS_TOKEN (3 characters, not shown): empty;'],
      ['short-token', 'invalid METRICS_TOKEN (11 characters, not shown): at least 16 characters'],
      ['with space 0123456789', 'invalid METRICS_TOKEN (21 characters, not shown): printable ASCII without spaces'],
      [' leading-blank-0123456789', 'invalid METRICS_TOKEN (25 characters, not shown): printable ASCII without spaces'],
      ['nön-ascii-0123456789', 'invalid METRICS_TOKEN (20 characters, not shown): printable ASCII without spaces'],
    ];
    for (const [value, message] of refusals) {
      expect(() => loadConfig({ METRICS_TOKEN: value }), JSON.stringify(value)).toThrow(ConfigError);
      expect(() => loadConfig({ METRICS_TOKEN: value }), JSON.stringify(value)).toThrow(message);
      expect(() => loadConfig({ METRICS_TOKEN: value })).not.toThrow(/short-token|with space|leading-blank|nön/);
    }
  });
});
