import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CidrError,
  addressIndex,
  cidrContains,
  cidrContainsCidr,
  cidrEquals,
  cidrOf,
  cidrSize,
  cidrsOverlap,
  compareCidrs,
  formatCidr,
  formatIPv4,
  isCidr,
  isIPv4,
  isNetworkOrBroadcast,
  lastAddress,
  lowestFreeSubnet,
  nthAddress,
  nthAddressString,
  nthSubnet,
  parseCidr,
  parseIPv4,
  prefixMask,
  subnetCount,
  subnetIndex,
  tryParseCidr,
  tryParseIPv4,
} from '../../model/cidr.js';

describe('IPv4 parse/format', () => {
  it('parses valid addresses to unsigned integers', () => {
    assert.equal(parseIPv4('0.0.0.0'), 0);
    assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
    assert.equal(parseIPv4('192.168.56.10'), 192 * 2 ** 24 + (168 << 16) + (56 << 8) + 10);
    assert.equal(parseIPv4('10.0.0.1'), 0x0a000001);
    assert.equal(parseIPv4('128.0.0.0'), 2 ** 31); // no sign problems
  });

  it('formats integers back', () => {
    for (const s of ['0.0.0.0', '255.255.255.255', '192.168.56.10', '10.244.255.0', '128.0.0.1', '1.2.3.4']) {
      assert.equal(formatIPv4(parseIPv4(s)), s);
    }
    assert.throws(() => formatIPv4(-1), CidrError);
    assert.throws(() => formatIPv4(2 ** 32), CidrError);
    assert.throws(() => formatIPv4(1.5), CidrError);
  });

  it('rejects malformed addresses with a reason', () => {
    const bad: [string, RegExp][] = [
      ['', /empty/],
      ['1.2.3', /four numbers/],
      ['1.2.3.4.5', /four numbers/],
      ['1.2.3.256', /greater than 255/],
      ['1.2.3.-1', /not a decimal number/],
      ['1.2.3.a', /not a decimal number/],
      ['1.2..4', /not a decimal number/],
      [' 1.2.3.4', /not a decimal number/],
      ['1.2.3.4 ', /not a decimal number/],
      ['01.2.3.4', /leading zero/],
      ['1.2.3.0x1', /not a decimal number/],
      ['1.2.3.4/24', /not a decimal number/],
      ['::1', /four numbers/],
    ];
    for (const [text, re] of bad) {
      const r = tryParseIPv4(text);
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.match(r.error, re, text);
      assert.equal(isIPv4(text), false, text);
      assert.throws(() => parseIPv4(text), CidrError);
    }
    assert.equal(isIPv4('0.0.0.0'), true);
  });
});

describe('CIDR parse/format', () => {
  it('parses valid ranges', () => {
    assert.deepEqual(parseCidr('10.244.0.0/16'), { network: parseIPv4('10.244.0.0'), prefix: 16 });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { network: 0, prefix: 0 });
    assert.deepEqual(parseCidr('192.168.56.10/32'), { network: parseIPv4('192.168.56.10'), prefix: 32 });
    assert.equal(formatCidr(parseCidr('10.240.0.0/12')), '10.240.0.0/12');
    assert.equal(isCidr('10.32.0.0/24'), true);
  });

  it('rejects host bits set and names the right network', () => {
    const r = tryParseCidr('10.244.1.0/16');
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.match(r.error, /host bits set/);
      assert.match(r.error, /did you mean 10\.244\.0\.0\/16\?/);
    }
    assert.throws(() => parseCidr('192.168.56.10/24'), /did you mean 192\.168\.56\.0\/24/);
    assert.throws(() => parseCidr('10.250.0.0/12'), /did you mean 10\.240\.0\.0\/12/);
  });

  it('rejects malformed ranges', () => {
    for (const text of [
      '10.244.0.0',
      '10.244.0.0/',
      '10.244.0.0/33',
      '10.244.0.0/-1',
      '10.244.0.0/08',
      '10.244.0/16',
      '10.244.0.0/16/2',
      'x/8',
      '10.244.0.0/ 16',
    ]) {
      assert.equal(isCidr(text), false, text);
      assert.throws(() => parseCidr(text), CidrError, text);
    }
  });

  it('masks', () => {
    assert.equal(prefixMask(0), 0);
    assert.equal(prefixMask(32), 0xffffffff);
    assert.equal(prefixMask(24), 0xffffff00);
    assert.equal(prefixMask(1), 0x80000000);
    assert.throws(() => prefixMask(33), CidrError);
    assert.throws(() => prefixMask(-1), CidrError);
  });

  it('cidrOf clears host bits', () => {
    assert.equal(formatCidr(cidrOf('10.244.7.9', 16)), '10.244.0.0/16');
    assert.equal(formatCidr(cidrOf(parseIPv4('255.255.255.255'), 1)), '128.0.0.0/1');
  });
});

describe('containment and overlap', () => {
  it('contains', () => {
    assert.equal(cidrContains('192.168.56.0/24', '192.168.56.0'), true);
    assert.equal(cidrContains('192.168.56.0/24', '192.168.56.255'), true);
    assert.equal(cidrContains('192.168.56.0/24', '192.168.57.0'), false);
    assert.equal(cidrContains('192.168.56.0/24', '192.168.55.255'), false);
    assert.equal(cidrContains('0.0.0.0/0', '255.255.255.255'), true);
    assert.equal(cidrContains('10.0.0.1/32', '10.0.0.1'), true);
    assert.equal(cidrContains('10.0.0.1/32', '10.0.0.2'), false);
    assert.equal(cidrContains('128.0.0.0/1', '200.1.1.1'), true);
    assert.equal(cidrContains('128.0.0.0/1', '127.255.255.255'), false);
  });

  it('contains ranges', () => {
    assert.equal(cidrContainsCidr('10.244.0.0/16', '10.244.3.0/24'), true);
    assert.equal(cidrContainsCidr('10.244.0.0/16', '10.244.0.0/16'), true);
    assert.equal(cidrContainsCidr('10.244.0.0/24', '10.244.0.0/16'), false);
    assert.equal(cidrContainsCidr('10.244.0.0/16', '10.245.0.0/24'), false);
  });

  it('overlaps', () => {
    assert.equal(cidrsOverlap('10.244.0.0/16', '10.244.128.0/17'), true);
    assert.equal(cidrsOverlap('10.244.128.0/17', '10.244.0.0/16'), true);
    assert.equal(cidrsOverlap('10.244.0.0/16', '10.32.0.0/24'), false);
    assert.equal(cidrsOverlap('10.0.0.0/8', '10.32.0.0/24'), true);
    assert.equal(cidrsOverlap('0.0.0.0/0', '1.2.3.4/32'), true);
    assert.equal(cidrsOverlap('10.244.0.0/24', '10.244.1.0/24'), false);
  });

  it('equality and ordering', () => {
    assert.equal(cidrEquals('10.0.0.0/8', parseCidr('10.0.0.0/8')), true);
    assert.equal(cidrEquals('10.0.0.0/8', '10.0.0.0/9'), false);
    const sorted = ['10.244.2.0/24', '10.244.0.0/24', '10.244.0.0/16', '9.0.0.0/8'].sort(compareCidrs);
    assert.deepEqual(sorted, ['9.0.0.0/8', '10.244.0.0/16', '10.244.0.0/24', '10.244.2.0/24']);
  });
});

describe('addresses inside a range', () => {
  it('size, last, nth', () => {
    assert.equal(cidrSize('10.32.0.0/24'), 256);
    assert.equal(cidrSize('0.0.0.0/0'), 2 ** 32);
    assert.equal(cidrSize('1.1.1.1/32'), 1);
    assert.equal(formatIPv4(lastAddress('10.32.0.0/24')), '10.32.0.255');
    assert.equal(formatIPv4(lastAddress('0.0.0.0/0')), '255.255.255.255');
    assert.equal(nthAddressString('10.32.0.0/24', 1), '10.32.0.1');
    assert.equal(nthAddressString('10.96.0.0/12', 10), '10.96.0.10');
    assert.equal(nthAddressString('10.32.0.0/24', -1), '10.32.0.255');
    assert.equal(nthAddressString('10.32.0.0/24', -256), '10.32.0.0');
    assert.equal(nthAddress('10.32.0.0/24', 0), parseIPv4('10.32.0.0'));
    assert.throws(() => nthAddress('10.32.0.0/24', 256), /index 256/);
    assert.throws(() => nthAddress('10.32.0.0/24', -257), CidrError);
    assert.throws(() => nthAddress('10.32.0.0/24', 1.5), CidrError);
  });

  it('index of an address', () => {
    assert.equal(addressIndex('10.32.0.0/24', '10.32.0.10'), 10);
    assert.equal(addressIndex('10.32.0.0/24', '10.33.0.10'), -1);
  });

  it('network and broadcast', () => {
    assert.equal(isNetworkOrBroadcast('192.168.56.0/24', '192.168.56.0'), true);
    assert.equal(isNetworkOrBroadcast('192.168.56.0/24', '192.168.56.255'), true);
    assert.equal(isNetworkOrBroadcast('192.168.56.0/24', '192.168.56.1'), false);
    assert.equal(isNetworkOrBroadcast('192.168.56.0/31', '192.168.56.0'), false); // RFC 3021
    assert.equal(isNetworkOrBroadcast('192.168.56.4/30', '192.168.56.7'), true);
  });
});

describe('subnets', () => {
  it('count', () => {
    assert.equal(subnetCount('10.244.0.0/16', 24), 256);
    assert.equal(subnetCount('10.240.0.0/12', 24), 4096);
    assert.equal(subnetCount('10.244.0.0/16', 16), 1);
    assert.equal(subnetCount('10.244.0.0/16', 15), 0);
  });

  it('nth subnet', () => {
    assert.equal(formatCidr(nthSubnet('10.244.0.0/16', 24, 0)), '10.244.0.0/24');
    assert.equal(formatCidr(nthSubnet('10.244.0.0/16', 24, 255)), '10.244.255.0/24');
    assert.equal(formatCidr(nthSubnet('10.240.0.0/12', 24, 256)), '10.241.0.0/24');
    assert.equal(formatCidr(nthSubnet('10.240.0.0/12', 24, 4095)), '10.255.255.0/24');
    assert.equal(formatCidr(nthSubnet('0.0.0.0/0', 1, 1)), '128.0.0.0/1');
    assert.throws(() => nthSubnet('10.244.0.0/16', 24, 256), /holds 256 subnets/);
    assert.throws(() => nthSubnet('10.244.0.0/16', 24, -1), CidrError);
    assert.throws(() => nthSubnet('10.244.0.0/16', 8, 0), /does not fit/);
  });

  it('subnet index', () => {
    assert.equal(subnetIndex('10.244.0.0/16', '10.244.7.0/24'), 7);
    assert.equal(subnetIndex('10.240.0.0/12', '10.241.0.0/24', 24), 256);
    assert.equal(subnetIndex('10.244.0.0/16', '10.245.7.0/24'), -1);
    assert.equal(subnetIndex('10.244.0.0/16', '10.244.7.0/25', 24), -1);
  });

  it('lowest free subnet', () => {
    const p = '10.244.0.0/16';
    assert.equal(formatCidr(lowestFreeSubnet(p, 24, [])!), '10.244.0.0/24');
    assert.equal(formatCidr(lowestFreeSubnet(p, 24, ['10.244.0.0/24', '10.244.1.0/24'])!), '10.244.2.0/24');
    // fills gaps first
    assert.equal(formatCidr(lowestFreeSubnet(p, 24, ['10.244.0.0/24', '10.244.2.0/24'])!), '10.244.1.0/24');
    assert.equal(formatCidr(lowestFreeSubnet(p, 24, ['10.244.1.0/24'])!), '10.244.0.0/24');
    // a larger used block is skipped whole; a smaller one blocks its containing subnet
    assert.equal(formatCidr(lowestFreeSubnet(p, 24, ['10.244.0.0/23'])!), '10.244.2.0/24');
    assert.equal(formatCidr(lowestFreeSubnet(p, 24, ['10.244.0.128/25'])!), '10.244.1.0/24');
    // used ranges outside the parent are irrelevant
    assert.equal(formatCidr(lowestFreeSubnet(p, 24, ['10.243.0.0/16', '10.245.0.0/16'])!), '10.244.0.0/24');
    // full
    const all = Array.from({ length: 4 }, (_, i) => nthSubnet('10.244.0.0/22', 24, i));
    assert.equal(lowestFreeSubnet('10.244.0.0/22', 24, all), undefined);
    assert.equal(lowestFreeSubnet('10.244.0.0/22', 24, ['10.0.0.0/8']), undefined);
    // big range: fast and right
    const used = Array.from({ length: 3000 }, (_, i) => nthSubnet('10.240.0.0/12', 24, i));
    assert.equal(formatCidr(lowestFreeSubnet('10.240.0.0/12', 24, used)!), formatCidr(nthSubnet('10.240.0.0/12', 24, 3000)));
  });
});

describe('lowestFreeSubnet agrees with brute force', () => {
  it('on many pseudo-random layouts', () => {
    // A fixed linear congruential generator: reproducible.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const parent = nthSubnet('10.0.0.0/8', 20, rand(4096)); // a /20
      const newPrefix = 20 + rand(5); // /20 .. /24
      const used = Array.from({ length: rand(12) }, () => {
        const p = 18 + rand(9); // /18 .. /26, may extend beyond the parent
        return cidrOf(parent.network + rand(2 ** 13) * 2 - 2 ** 12, p);
      });
      let expected: string | undefined;
      for (let i = 0; i < subnetCount(parent, newPrefix); i++) {
        const s = nthSubnet(parent, newPrefix, i);
        if (!used.some((u) => cidrsOverlap(u, s))) {
          expected = formatCidr(s);
          break;
        }
      }
      const got = lowestFreeSubnet(parent, newPrefix, used);
      assert.equal(got && formatCidr(got), expected, `round ${round}`);
    }
  });
});
