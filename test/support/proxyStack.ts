/**
 * The whole stack the end-to-end proxy tests drive: the simulator on a free port, an EngineHost with
 * the scenario's accounts signed in, quotas refreshed once, and the proxy listening with `key`.
 */
import { addSimulatorAccounts, simulatorOAuth } from '../../src/host/demo';
import { EngineHost } from '../../src/host/engineHost';
import { type RunningSimulator, startSimulator } from '../../src/simulator';
import type { ScenarioInput } from '../../src/simulator/scenario';
import { MemoryTokenStore } from '../../src/upstream/cloudcode/oauth';

export interface ProxyStack {
  sim: RunningSimulator;
  host: EngineHost;
  /** The proxy's base URL. */
  url: string;
  close(): Promise<void>;
}

export async function startProxyStack(scenario: ScenarioInput, key: string): Promise<ProxyStack> {
  const sim = await startSimulator({ scenario, port: 0 });
  const host = await EngineHost.create({
    dataDir: null,
    tokenStore: new MemoryTokenStore(),
    oauth: simulatorOAuth(sim),
    baseUrls: [sim.baseUrl],
    proxy: { enabled: true, port: 0, key },
  });
  await addSimulatorAccounts(host, sim);
  await host.start();
  await host.refresh();
  return {
    sim,
    host,
    url: host.proxyStatus().url as string,
    close: async () => {
      await host.dispose();
      await sim.close();
    },
  };
}
