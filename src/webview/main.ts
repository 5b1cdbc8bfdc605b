// The dashboard's browser code (its own bundle). Filled in by the dashboard work; for now it only
// announces itself so the host's ready handshake has something to talk to.
const vscode = acquireVsCodeApi();
vscode.postMessage({ type: 'ready' });

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };
