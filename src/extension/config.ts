/** Typed, validated settings for the extension; problems are shown once per distinct message. */
import * as vscode from 'vscode';
import type { SettingKey, Settings } from '../shared/settings';
import { SETTINGS, parseSettings } from '../shared/settings';

export class Config implements vscode.Disposable {
  private current: Settings;
  private readonly shown = new Set<string>();
  private readonly emitter = new vscode.EventEmitter<Settings>();
  readonly onDidChange = this.emitter.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly report: (message: string) => void) {
    this.current = this.read();
    this.sub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('quotaPilot')) return;
      this.current = this.read();
      this.emitter.fire(this.current);
    });
  }

  get settings(): Settings {
    return this.current;
  }

  get<K extends SettingKey>(key: K): Settings[K] {
    return this.current[key];
  }

  async set<K extends SettingKey>(key: K, value: Settings[K]): Promise<void> {
    await vscode.workspace
      .getConfiguration('quotaPilot')
      .update(key, value, vscode.ConfigurationTarget.Global);
  }

  private read(): Settings {
    const cfg = vscode.workspace.getConfiguration('quotaPilot');
    const { settings, problems } = parseSettings((key) => {
      const inspected = cfg.inspect(key);
      // Only what the user set is validated; defaults come from the schema.
      return inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
    });
    for (const p of problems) {
      if (this.shown.has(p.message)) continue;
      this.shown.add(p.message);
      this.report(p.message);
    }
    return settings;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];
