/** Which webhook URLs and resolved addresses are refused (pure code). */
import { describe, expect, it } from 'vitest';
import { addressRefusal, checkWebhookUrl, type WebhookPolicy } from '../../src/notifications/address-policy.js';

const open: WebhookPolicy = { allowedHosts: [], allowPrivate: false };
const code = (url: string, p: WebhookPolicy = open) => {
  const r = checkWebhookUrl(url, p);
  return 'code' in r ? r.code : 'ok';
};

describe('webhook address policy', () => {
  it('accepts public http(s) URLs only', () => {
    expect(code('https://hooks.example.com/x?y=1')).toBe('ok');
    expect(code('http://93.184.216.34:8080/')).toBe('ok');
    expect(code('ftp://example.com/')).toBe('INVALID_WEBHOOK_URL');
    expect(code('javascript:alert(1)')).toBe('INVALID_WEBHOOK_URL');
    expect(code('/relative')).toBe('INVALID_WEBHOOK_URL');
    expect(code('https://u:p@example.com/')).toBe('INVALID_WEBHOOK_URL');
  });

  it('refuses link-local, metadata, loopback and private addresses by default', () => {
    for (const u of [
      'http://169.254.169.254/latest', 'http://[fe80::1]/', 'http://metadata.google.internal/', 'http://0.0.0.0/',
      'http://127.0.0.1:9/', 'http://localhost/', 'http://[::1]/', 'http://10.1.2.3/', 'http://192.168.0.1/',
      'http://172.20.0.1/', 'http://[fd12::1]/', 'http://[::ffff:127.0.0.1]/', 'http://100.64.0.1/',
    ]) {
      expect(code(u), u).toBe('WEBHOOK_NOT_ALLOWED');
    }
  });

  it('refuses a loopback or metadata name written fully qualified (a trailing dot) as that name', () => {
    for (const u of ['http://localhost./', 'http://metadata.google.internal./computeMetadata/v1/', 'http://app.localhost./']) {
      expect(code(u), u).toBe('WEBHOOK_NOT_ALLOWED');
    }
    expect(code('http://metadata.google.internal./', { allowedHosts: [], allowPrivate: true })).toBe('WEBHOOK_NOT_ALLOWED');
    const listed = { allowedHosts: ['hooks.example.com', '*.corp.example'], allowPrivate: false };
    expect(code('https://hooks.example.com./', listed)).toBe('ok');
    expect(code('https://a.corp.example./', listed)).toBe('ok');
  });

  it('WEBHOOK_ALLOW_PRIVATE admits loopback and private networks, never link-local or metadata', () => {
    const priv = { allowedHosts: [], allowPrivate: true };
    expect(code('http://127.0.0.1:8080/', priv)).toBe('ok');
    expect(code('http://localhost/', priv)).toBe('ok');
    expect(code('http://10.0.0.5/', priv)).toBe('ok');
    expect(code('http://169.254.169.254/', priv)).toBe('WEBHOOK_NOT_ALLOWED');
    expect(code('http://metadata.google.internal/', priv)).toBe('WEBHOOK_NOT_ALLOWED');
  });

  it('an allow-list admits only its hosts, including listed internal ones', () => {
    const listed = { allowedHosts: ['hooks.example.com', '*.corp.example', '10.0.0.7'], allowPrivate: false };
    expect(code('https://hooks.example.com/', listed)).toBe('ok');
    expect(code('https://a.b.corp.example/', listed)).toBe('ok');
    expect(code('http://10.0.0.7/', listed)).toBe('ok');
    expect(code('https://other.example.com/', listed)).toBe('WEBHOOK_NOT_ALLOWED');
  });

  it('refuses an IPv6 address that carries a refused IPv4 one (NAT64, 6to4, IPv4-compatible) as that address', () => {
    for (const u of [
      'http://[64:ff9b::a9fe:a9fe]/latest', 'http://[64:ff9b::169.254.169.254]/', 'http://[64:ff9b::a00:1]/',
      'http://[64:ff9b::7f00:1]/', 'http://[2002:a9fe:a9fe::1]/', 'http://[2002:c0a8:1::]/', 'http://[::127.0.0.1]/',
    ]) {
      expect(code(u), u).toBe('WEBHOOK_NOT_ALLOWED');
    }
    const priv = { allowedHosts: [], allowPrivate: true };
    expect(code('http://[64:ff9b::a9fe:a9fe]/', priv)).toBe('WEBHOOK_NOT_ALLOWED'); // metadata: never
    expect(code('http://[64:ff9b::a00:1]/', priv)).toBe('ok');
    expect(addressRefusal('64:ff9b::a00:1', open)).toMatch(/10\.0\.0\.1 is a loopback or private-network address/);
    // Public IPv4 addresses behind those prefixes, and other IPv6 addresses, stay allowed.
    for (const u of ['http://[64:ff9b::808:808]/', 'http://[2002:808:808::1]/', 'http://[2606:4700::1111]/']) expect(code(u), u).toBe('ok');
  });

  it('checks resolved addresses at send time', () => {
    expect(addressRefusal('169.254.169.254', { allowedHosts: [], allowPrivate: true })).toMatch(/link-local/);
    expect(addressRefusal('127.0.0.1', open)).toMatch(/loopback/);
    expect(addressRefusal('8.8.8.8', open)).toBeNull();
  });
});
