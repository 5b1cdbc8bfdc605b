// Runs once before the e2e files: installs/validates code-server and Chromium (scripts/e2e/setup.sh,
// a no-op on a warm machine), packages the vsix the UI tests install, and builds the development
// bundles (dist/extension.js, dist/test/suite.js) the extension-host tests load.
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './harness';

function run(cmd: string, args: string[]): void {
  const start = performance.now();
  const res = spawnSync(cmd, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (res.status !== 0) {
    throw new Error(
      `e2e setup: \`${cmd} ${args.join(' ')}\` failed (exit ${res.status ?? res.signal}); see its output above.`,
    );
  }
  console.log(
    `e2e setup: ${cmd} ${args.join(' ')} took ${((performance.now() - start) / 1000).toFixed(1)} s`,
  );
}

export default function setup(): void {
  run('bash', ['scripts/e2e/setup.sh']);
  run('npm', ['run', '--silent', 'package']);
  run('npm', ['run', '--silent', 'build']);
}
