import { describe, expect, it } from 'vitest';
import { endpointProblem, isPrivateAddress } from '../../../src/service/subscription/endpoint-address.ts';

describe('webhook endpoint addresses', () => {
  it('takes loopback, private, link-local and other non-public addresses for internal, IPv4-mapped and NAT64 forms included', () => {
    const internal = [
      '127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
      '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1',
      '64:ff9b::7f00:1', '64:ff9b::192.168.0.1', '2001:db8::1', 'not-an-address',
    ];
    const external = ['8.8.8.8', '172.32.0.1', '93.184.216.34', '2606:4700:4700::1111', '64:ff9b::808:808', '64:ff9b::8.8.4.4', '::ffff:8.8.8.8'];
    for (const ip of internal) expect(isPrivateAddress(ip), ip).toBe(true);
    for (const ip of external) expect(isPrivateAddress(ip), ip).toBe(false);
  });

  it('refuses non-http(s) URLs, credentials, and internal hosts unless private endpoints are allowed', () => {
    expect(endpointProblem('https://hooks.example.org/in?x=1', false)).toBeUndefined();
    expect(endpointProblem('http://127.0.0.1:8080/hook', true)).toBeUndefined();
    expect(endpointProblem('ftp://example.org/', false)).toMatch(/http or https/);
    expect(endpointProblem('hooks.example.org/in', false)).toMatch(/absolute/);
    expect(endpointProblem('https://u:p@example.org/', true)).toMatch(/credentials/);
    for (const url of ['http://127.0.0.1/', 'http://0x7f000001/', 'http://2130706433/', 'http://[::1]/', 'http://localhost/', 'http://LocalHost./', 'http://x.localhost/', 'http://[::ffff:a00:1]/']) {
      expect(endpointProblem(url, false), url).toMatch(/WEBHOOK_ALLOW_PRIVATE/);
    }
  });
});
