// Runs once before the client tests: installs the clients (scripts/clients/setup.sh, a no-op on a
// warm machine) and builds dist/cli.js, the `serve` the clients talk to.
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './harness';

function run(cmd: string, args: string[]): string {
  const start = performance.now();
  const res = spawnSync(cmd, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  process.stdout.write(res.stdout ?? '');
  if (res.status !== 0) {
    throw new Error(
      `clients setup: \`${cmd} ${args.join(' ')}\` failed (exit ${res.status ?? res.signal}); see its output above.`,
    );
  }
  console.log(
    `clients setup: ${cmd} ${args.join(' ')} took ${((performance.now() - start) / 1000).toFixed(1)} s`,
  );
  return res.stdout ?? '';
}

export default function setup(): void {
  const out = run('bash', ['scripts/clients/setup.sh']);
  const root = /^CLIENTS_ROOT=(.+)$/m.exec(out)?.[1];
  if (!root) throw new Error('clients setup: scripts/clients/setup.sh did not print CLIENTS_ROOT=<folder>');
  process.env.QP_CLIENTS_ROOT = root;
  run('npm', ['run', '--silent', 'build']);
}
