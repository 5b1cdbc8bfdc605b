/**
 * Demo mode: the engine pointed at the built-in Cloud Code simulator, with the simulator's accounts
 * signed in through its OAuth token endpoint — the same code path as real accounts, no network.
 */
import type { RunningSimulator } from '../simulator';

/** What the demo helpers need of a simulator: its OAuth endpoints and its accounts. */
export type SimulatorAccess = Pick<RunningSimulator, 'oauth'> & {
  accounts: ReadonlyArray<
    Pick<
      RunningSimulator['accounts'][number],
      'email' | 'tier' | 'refreshToken' | 'clientId' | 'clientSecret'
    >
  >;
};
import type { OAuthConfig } from '../upstream/cloudcode/oauth';
import type { EngineHost } from './engineHost';

/** OAuth endpoints and client of a running simulator. */
export function simulatorOAuth(sim: SimulatorAccess): OAuthConfig {
  const first = sim.accounts[0];
  return {
    ...sim.oauth,
    clientId: first?.clientId ?? 'sim-client-id',
    ...(first?.clientSecret ? { clientSecret: first.clientSecret } : {}),
  };
}

/** Adds every simulator account to the host; resolves to how many were added. */
export async function addSimulatorAccounts(host: EngineHost, sim: SimulatorAccess): Promise<number> {
  for (const a of sim.accounts) {
    await host.addAccount({
      email: a.email,
      label: a.email.split('@')[0] ?? a.email,
      tier: a.tier,
      tokens: {
        refreshToken: a.refreshToken,
        clientId: a.clientId,
        clientSecret: a.clientSecret,
        email: a.email,
      },
    });
  }
  return sim.accounts.length;
}
