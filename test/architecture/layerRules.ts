/** Pure checker behind layers.test.ts; takes file paths (relative, with '/') and their text. */

/** Which top-level folders of src/ each layer may import from (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  store: ['core'],
  simulator: ['core'],
  upstream: ['core'],
  proxy: ['core', 'upstream', 'store', 'simulator'],
  /** The composition root: wires the engine, the upstream client, storage and the proxy together. */
  host: ['core', 'upstream', 'store', 'simulator', 'proxy'],
  cli: ['core', 'upstream', 'store', 'simulator', 'proxy', 'host'],
  shared: ['core'],
  webview: ['shared'],
  extension: ['core', 'upstream', 'store', 'simulator', 'proxy', 'shared', 'host'],
};

const NODE_IO = /^(node:)?(fs|fs\/promises|net|http|https|http2|child_process|dgram|tls|worker_threads)$/;
const DIRECT_TIME =
  /\bDate\.now\s*\(|\bnew Date\s*\(\s*\)|\bperformance\.now\s*\(|(?<![.\w])setTimeout\s*\(|(?<![.\w])setInterval\s*\(/;

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function layerOf(path: string): string | undefined {
  const m = /^src\/([^/]+)(\/|\.ts$)/.exec(path);
  if (!m) return undefined;
  return m[1] === 'cli.ts' || m[1] === 'cli' ? 'cli' : m[1];
}

function specifiers(text: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] as string);
  return out;
}

function resolveLayer(fromPath: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const parts = fromPath.split('/').slice(0, -1);
  for (const seg of spec.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.') parts.push(seg);
  }
  return layerOf(`${parts.join('/')}${parts.length === 2 ? '.ts' : ''}`) ?? layerOf(parts.join('/') + '/');
}

export function findLayerViolations(files: ReadonlyArray<{ path: string; text: string }>): string[] {
  const problems: string[] = [];
  for (const { path, text } of files) {
    const layer = layerOf(path);
    const code = stripComments(text);
    for (const spec of specifiers(code)) {
      if (spec === 'vscode' && layer !== 'extension') {
        problems.push(`${path}: imports vscode; only src/extension/ may`);
      }
      if (layer === 'core' && NODE_IO.test(spec)) {
        problems.push(`${path}: src/core/ must do no I/O but imports "${spec}"`);
      }
      const target = resolveLayer(path, spec);
      if (layer && target && target !== layer && !(ALLOWED[layer] ?? []).includes(target)) {
        problems.push(`${path}: layer "${layer}" must not import from "${target}" (${spec})`);
      }
    }
    if (layer === 'core' && path !== 'src/core/clock.ts') {
      code.split('\n').forEach((line, i) => {
        if (DIRECT_TIME.test(line)) {
          problems.push(`${path}:${i + 1}: src/core/ reads time only through its Clock: ${line.trim()}`);
        }
      });
    }
  }
  return problems;
}
