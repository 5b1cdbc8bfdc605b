/** Built-in scenarios, and loading a scenario by name or from a JSON file. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors';
import { parseScenario, type Scenario, type ScenarioInput } from '../scenario';
import { demoScenario } from './demo';
import { faultyScenario } from './faulty';
import { stressScenario } from './stress';

export const BUILTIN_SCENARIOS: Readonly<Record<string, () => ScenarioInput>> = {
  demo: () => demoScenario,
  stress: () => stressScenario(),
  faulty: () => faultyScenario,
};

/** A built-in scenario by name ("demo", "stress", "faulty"), or a JSON file by path. */
export function loadScenario(nameOrPath: string): Scenario {
  const builtin = BUILTIN_SCENARIOS[nameOrPath];
  if (builtin) return parseScenario(builtin(), `built-in scenario "${nameOrPath}"`);
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `scenario "${nameOrPath}" is neither a built-in scenario (${Object.keys(BUILTIN_SCENARIOS).join(', ')}) ` +
        `nor a readable file${code ? ` (${code})` : ''}: give one of those names or the path of a JSON scenario file`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`scenario file ${nameOrPath} is not valid JSON: ${(err as Error).message}`);
  }
  return parseScenario(json, `scenario file ${nameOrPath}`);
}
