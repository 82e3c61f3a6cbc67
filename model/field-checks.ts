// Format rules of single fields: names, addresses, ranges, ports, versions, paths, URLs, enums. Pure and
// free of zod: model/spec.ts applies them while parsing a file, model/spec-fields.ts to a typed spec.
import type { FieldRuleId } from './rule-ids.js';
import { tryParseCidr, tryParseIPv4 } from './cidr.js';
import { didYouMean } from './did-you-mean.js';
import { quote } from './excerpt.js';

export interface FieldError {
  message: string;
  fix: string;
  rule: FieldRuleId;
}

const LABEL_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** RFC 1123 label: 1..63 characters, lowercase letters, digits and '-', starting and ending alphanumeric. */
export function dnsLabelError(value: string, what: string): FieldError | undefined {
  if (value.length === 0) return { message: `${what} is empty`, fix: `give a ${what} such as "node-1"`, rule: 'invalid-name' };
  if (value.length <= 63 && LABEL_RE.test(value)) return undefined;
  const suggestion = value
    .slice(0, 1000)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
  if (value.length > 63) {
    return {
      message: `${what} ${quote(value)} is ${value.length} characters long; at most 63 are allowed (RFC 1123 label)`,
      fix: `shorten it, e.g. "${suggestion}"`,
      rule: 'invalid-name',
    };
  }
  return {
    message: `${what} ${quote(value)} is not a valid RFC 1123 label: only lowercase letters, digits and "-", starting and ending with a letter or digit`,
    fix: suggestion && suggestion !== value ? `use a name like "${suggestion}"` : 'use lowercase letters, digits and "-" only',
    rule: 'invalid-name',
  };
}

export function ipv4FieldError(value: string): FieldError | undefined {
  const r = tryParseIPv4(value);
  if (r.ok) return undefined;
  return { message: r.error, fix: 'write a dotted-quad IPv4 address such as 192.168.56.21', rule: 'invalid-address' };
}

export function cidrFieldError(value: string): FieldError | undefined {
  const r = tryParseCidr(value);
  if (r.ok) return undefined;
  const m = /did you mean (\S+)\?/.exec(r.error);
  return { message: r.error, fix: m ? `use ${m[1]}` : 'write a CIDR range such as 10.244.0.0/16', rule: 'invalid-cidr' };
}

export function portError(value: number): FieldError | undefined {
  if (Number.isInteger(value) && value >= 1 && value <= 65535) return undefined;
  return {
    message: `port ${String(value).slice(0, 30)} is out of range: it must be a whole number from 1 to 65535`,
    fix: 'use a TCP port between 1 and 65535 (the API server default is 6443, SSH is 22)',
    rule: 'invalid-port',
  };
}

const RELEASE_TAG_RE = /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/**
 * A release tag the version rule accepts, made from what the user probably meant: "1.32.3" -> "v1.32.3",
 * "1.32" (or the YAML number 1.32) -> "v1.32.0". Undefined when nothing sensible can be made.
 */
export function suggestVersion(text: string): string | undefined {
  const bare = text.trim().replace(/^[vV]/, '');
  if (RELEASE_TAG_RE.test(`v${bare}`)) return `v${bare}`;
  if (/^\d+\.\d+$/.test(bare)) return `v${bare}.0`;
  return undefined;
}

export function versionError(example: string) {
  return (value: string): FieldError | undefined => {
    if (RELEASE_TAG_RE.test(value)) return undefined;
    return {
      message: `version ${quote(value)} is not a release tag like "${example}"`,
      fix: `write "${suggestVersion(value) ?? example}"`,
      rule: 'invalid-version',
    };
  };
}

export function nonEmptyError(what: string) {
  return (value: string): FieldError | undefined =>
    value.trim().length > 0 ? undefined : { message: `${what} is empty`, fix: `give a ${what} or remove the field`, rule: 'empty' };
}

export function absolutePathError(what: string) {
  return (value: string): FieldError | undefined =>
    value.startsWith('/') || value.startsWith('~/')
      ? undefined
      : {
          message: `${what} ${quote(value)} is not an absolute path`,
          fix: 'write an absolute path such as /srv/hardway/bin',
          rule: 'invalid-path',
        };
}

/** A subject alternative name: an IPv4 address, or a DNS name (a "*." wildcard allowed in front). */
export function sanError(value: string): FieldError | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(value)) {
    const e = ipv4FieldError(value);
    return e ? { ...e, rule: 'invalid-san' } : undefined;
  }
  const name = value.startsWith('*.') ? value.slice(2) : value;
  const labels = name.split('.');
  const ok = name.length <= 253 && labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l));
  if (ok) return undefined;
  return {
    message: `${quote(value)} is neither an IPv4 address nor a DNS name`,
    fix: `write a lower-case DNS name such as api.example.com, or an address such as 203.0.113.10${
      value.toLowerCase() !== value ? ` (did you mean "${value.toLowerCase()}"?)` : ''
    }`,
    rule: 'invalid-san',
  };
}

// An image reference: [registry[:port]/]path[:tag][@sha256:digest], lower case, as containerd parses it.
const IMAGE_NAME_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\\d+)?/)?';
const IMAGE_REF_RE = new RegExp(
  `^${IMAGE_DOMAIN}${IMAGE_NAME_COMPONENT}(?:/${IMAGE_NAME_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`,
);

/** An image reference with a tag or a digest: an untagged one means ":latest", which changes under a running cluster. */
export function imageReferenceError(value: string): FieldError | undefined {
  if (!IMAGE_REF_RE.test(value)) {
    return {
      message: `${quote(value)} is not an image reference`,
      fix: 'write a reference such as registry.k8s.io/pause:3.10.1 (lower-case name, then a :tag or @sha256: digest)',
      rule: 'invalid-image',
    };
  }
  const lastPart = value.split('@')[0]!.split('/').pop()!;
  if (!value.includes('@') && !lastPart.includes(':')) {
    return {
      message: `image ${quote(value)} has no tag or digest`,
      fix: `pin it, e.g. ${quote(`${value}:1.0`)}: without a tag containerd takes :latest, which can change under a running cluster`,
      rule: 'invalid-image',
    };
  }
  return undefined;
}

export function urlError(value: string): FieldError | undefined {
  if (/^https?:\/\/[^\s/]+/.test(value)) return undefined;
  return {
    message: `mirror ${quote(value)} is not an http(s) URL`,
    fix: 'write a URL such as https://mirror.example.com/kubernetes',
    rule: 'invalid-url',
  };
}

/** A value outside an enumeration (roles, binaries.source, preflight.memoryPolicy). */
export function oneOfError(value: unknown, allowed: readonly string[]): FieldError | undefined {
  if (typeof value === 'string' && allowed.includes(value)) return undefined;
  const guess = typeof value === 'string' ? didYouMean(value, allowed) : undefined;
  const shown = typeof value === 'string' ? quote(value) : String(JSON.stringify(value) ?? String(value)).slice(0, 60);
  return {
    message: `${shown} is not one of: ${allowed.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`,
    fix: guess ? `use "${guess}"` : `use one of: ${allowed.join(', ')}`,
    rule: 'invalid-value',
  };
}
