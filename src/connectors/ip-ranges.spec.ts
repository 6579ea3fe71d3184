import { blockedAddressReason, parseIPv6 } from './ip-ranges';
import { assertPublicUrl } from './ssrf-guard';

describe('SSRF address ranges', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.100.100.200',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd00:ec2::254',
    'fc00::1',
    'fe80::1%eth0',
    '::ffff:127.0.0.1',
    '::ffff:8.8.8.8',
    '64:ff9b::a00:1',
    '2002:c0a8:101::1',
    'ff02::1',
  ])('refuses %s', (address) => {
    expect(blockedAddressReason(address)).toEqual(expect.any(String));
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '2002:808:808::1',
  ])('allows public %s', (address) => {
    expect(blockedAddressReason(address)).toBeUndefined();
  });

  it('parses compressed IPv6 and embedded IPv4', () => {
    expect(parseIPv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(parseIPv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6('1:2')).toBeUndefined();
  });

  it('checks every address a name resolves to, unless the host is allowed', async () => {
    const resolve = async () => ['93.184.216.34', '10.0.0.7'];
    await expect(
      assertPublicUrl(new URL('https://mixed.example/'), [], resolve),
    ).rejects.toMatchObject({ code: 'ssrf_blocked', retryable: false });
    await expect(
      assertPublicUrl(new URL('https://mixed.example/'), ['MIXED.example'], resolve),
    ).resolves.toBeUndefined();
    await expect(assertPublicUrl(new URL('http://[::1]:8080/'), [], resolve)).rejects.toMatchObject(
      { code: 'ssrf_blocked' },
    );
    await expect(assertPublicUrl(new URL('http://2130706433/'), [], resolve)).rejects.toMatchObject(
      { code: 'ssrf_blocked' },
    );
    await expect(assertPublicUrl(new URL('ftp://x.example/'), [], resolve)).rejects.toMatchObject({
      code: 'invalid_url',
    });
  });
});
