/**
 * The Cloud Code + OAuth simulator: `startSimulator` runs it on a real socket; `SimulatorCore`,
 * `QuotaModel` and the scenario functions are usable in-process without HTTP.
 */
import type { AddressInfo } from 'node:net';
import { SystemClock, VirtualClock, type Clock } from '../core/clock';
import { ConfigError } from '../core/errors';
import { ScaledClock } from './clocks';
import { SimulatorCore, type SimulatorControl } from './core';
import { parseScenario, toEpochMs, type Scenario, type ScenarioInput, type SimTierName } from './scenario';
import { loadScenario } from './scenarios';
import { SimulatorHttp } from './server';

export type { SimulatorControl, SimulatorState, SimulatorStats, DrainRequest } from './core';
export { SimulatorCore, quotaModelFor } from './core';
export { QuotaModel, WINDOW_MS, type ConsumeResult, type QuotaWindowKind, type SimTier } from './quotaModel';
export {
  parseScenario,
  ScenarioSchema,
  FAULT_KINDS,
  type Scenario,
  type ScenarioInput,
  type FaultSpec,
  type FaultKind,
} from './scenario';
export { loadScenario, BUILTIN_SCENARIOS } from './scenarios';
export { stressScenario } from './scenarios/stress';
export { demoScenario } from './scenarios/demo';
export { faultyScenario } from './scenarios/faulty';
export { ScaledClock } from './clocks';

export interface SimulatorOptions {
  /** A validated or raw scenario object, or a built-in name ("demo", "stress", "faulty") or JSON file path. */
  scenario: Scenario | ScenarioInput | string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: the system clock, or a ScaledClock when timeScale is given. */
  clock?: Clock;
  /** Simulated time = start + real elapsed × timeScale (ignored when a clock is given). */
  timeScale?: number;
  /** A VirtualClock from the scenario's startTime (else now), moved only by control.advance. */
  virtualClock?: boolean;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** One line per request; never contains tokens. */
  log?: (line: string) => void;
}

export interface SimulatorAccountInfo {
  id: string;
  email: string;
  tier: SimTierName;
  refreshToken: string;
  clientId: string;
  clientSecret: string;
}

export interface RunningSimulator {
  /** e.g. "http://127.0.0.1:PORT"; Cloud Code calls go to `${baseUrl}/v1internal:method`. */
  baseUrl: string;
  port: number;
  oauth: { authorizeUrl: string; tokenUrl: string; userinfoUrl: string };
  accounts: SimulatorAccountInfo[];
  control: SimulatorControl;
  clock: Clock;
  scenario: Scenario;
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  let scenario =
    typeof opts.scenario === 'string' ? loadScenario(opts.scenario) : parseScenario(opts.scenario);
  if (opts.seed !== undefined) scenario = { ...scenario, seed: opts.seed };
  let clock: Clock;
  const start = scenario.startTime === undefined ? undefined : toEpochMs(scenario.startTime);
  if (opts.clock) clock = opts.clock;
  else if (opts.virtualClock) clock = new VirtualClock(start ?? Date.now());
  else if (opts.timeScale !== undefined && opts.timeScale !== 1) {
    if (!(opts.timeScale > 0))
      throw new ConfigError(`time scale must be a positive number, got ${opts.timeScale}`);
    clock = new ScaledClock(opts.timeScale, start);
  } else clock = new SystemClock();
  const core = new SimulatorCore(scenario, clock);
  const http = new SimulatorHttp(core, opts.log ?? (() => undefined));
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        err.code === 'EADDRINUSE'
          ? new ConfigError(
              `port ${opts.port ?? 0} on ${host} is already in use: pick another with --port, or 0 for any free port`,
            )
          : err,
      );
    };
    http.server.once('error', onError);
    http.server.listen(opts.port ?? 0, host, () => {
      http.server.off('error', onError);
      resolve();
    });
  });
  const port = (http.server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const baseUrl = `http://${hostPart}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    baseUrl,
    port,
    oauth: {
      authorizeUrl: `${baseUrl}/o/oauth2/v2/auth`,
      tokenUrl: `${baseUrl}/token`,
      userinfoUrl: `${baseUrl}/oauth2/v2/userinfo`,
    },
    accounts: scenario.accounts.map((a) => ({
      id: a.id,
      email: a.email,
      tier: a.tier,
      refreshToken: a.refreshToken,
      clientId: scenario.oauth.clientId,
      clientSecret: scenario.oauth.clientSecret,
    })),
    control: core,
    clock,
    scenario,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        http.server.close(() => resolve());
        http.server.closeAllConnections();
      });
      return closed;
    },
  };
}
