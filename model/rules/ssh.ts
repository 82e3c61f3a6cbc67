// Rules on how hardway reaches the hosts: a user that is a bare login name (globally and per host), a
// private key file, and fingerprints of hosts of this file in OpenSSH's SHA256 form.
import type { Problem } from '../types.js';
import type { LooseSpec } from '../loose-view.js';
import { didYouMean } from '../did-you-mean.js';
import { quote } from '../excerpt.js';
import type { PathSegment } from '../field-path.js';
import { error, warning } from './report.js';

const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/** "vagrant@192.168.56.21", "root:22" or "ops team" is not a login name. */
function userProblem(segs: PathSegment[], user: string): Problem | undefined {
  const bad = /[@:\s]/.exec(user)?.[0];
  // An empty or blank user is the field rule's ("empty").
  if (bad === undefined || user.trim() === '') return undefined;
  const login = user.trim().split(/[@:\s]/)[0] ?? '';
  const write = `write only the login name, user: ${login !== '' ? quote(login) : '"root"'}`;
  const what = bad === '@' || bad === ':' ? `"${bad}"` : 'whitespace';
  const fix =
    bad === '@'
      ? `${write}; hardway connects to each host's address from hosts[].address`
      : bad === ':'
        ? `${write}, and give a port as ssh.port`
        : write;
  return error(segs, 'invalid-ssh-user', `user ${quote(user)} is not a login name: it holds ${what}`, fix);
}

export function sshProblems(l: LooseSpec): Problem[] {
  const out: Problem[] = [];
  const push = (p: Problem | undefined) => {
    if (p) out.push(p);
  };
  if (l.ssh.user !== undefined) push(userProblem(['ssh', 'user'], l.ssh.user));
  for (const h of l.hosts) if (h.sshUser !== undefined) push(userProblem(['hosts', h.index, 'ssh', 'user'], h.sshUser));

  const key = l.ssh.identityFile;
  if (key !== undefined && key.trim().endsWith('.pub')) {
    const privateKey = key.trim().slice(0, -'.pub'.length);
    out.push(
      error(
        ['ssh', 'identityFile'],
        'identity-file-is-public-key',
        `${quote(key)} is a public key (.pub): SSH logs in with the private key`,
        `that is the public key; give the private key file, e.g. ${privateKey !== '' && !privateKey.endsWith('/') ? quote(privateKey).slice(1, -1) : '~/.ssh/id_ed25519'}`,
      ),
    );
  }

  if (l.ssh.fingerprints) {
    const hostNames = l.hosts.map((h) => h.name).filter((n): n is string => n !== undefined);
    for (const [name, value] of Object.entries(l.ssh.fingerprints)) {
      if (!hostNames.includes(name)) {
        const guess = didYouMean(name, hostNames);
        out.push(
          warning(
            ['ssh', 'fingerprints', name],
            'unknown-fingerprint-host',
            `fingerprint for ${quote(name)}, which is not a host in this file${guess ? ` (did you mean "${guess}"?)` : ''}`,
            guess ? `rename it to "${guess}"` : 'remove it, or correct the host name',
          ),
        );
      }
      if (typeof value === 'string' && !FINGERPRINT_RE.test(value)) {
        out.push(
          error(
            ['ssh', 'fingerprints', name],
            'invalid-fingerprint',
            `fingerprint ${quote(value)} is not an OpenSSH SHA256 fingerprint`,
            'copy it from `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host, e.g. SHA256:abc...',
          ),
        );
      }
    }
  }
  return out;
}
