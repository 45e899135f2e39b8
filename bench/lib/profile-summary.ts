/**
 * Reading V8 CPU profiles (the `.cpuprofile` JSON of `--cpu-prof` and the inspector's
 * `Profiler.stop`) without a viewer: self time per function and per file or npm package, for the
 * short Markdown summary `npm run bench -- --profile` writes beside each profile. Also merges the
 * profiles of a workload's runs into one, with the gaps between runs taken out. Pure functions.
 * https://chromedevtools.github.io/devtools-protocol/v8/Profiler/#type-Profile
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; scriptId?: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** Microseconds. */
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime { name: string; ms: number; share: number }

export interface ProfileSummary {
  /** Sampled wall time, idle included, in ms. */
  totalMs: number;
  /** Time the main thread was busy (everything but `(idle)`), in ms. */
  busyMs: number;
  /** Garbage collection's share of the busy time. */
  gcShare: number;
  /** Shares are of the busy time. */
  functions: SelfTime[];
  files: SelfTime[];
}

/** Self time of each node in microseconds, from the sample timeline (or `hitCount` when absent). */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const times = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  if (samples?.length && timeDeltas?.length === samples.length) {
    let at = profile.startTime;
    const stamps = timeDeltas.map((d) => (at += d));
    for (let i = 0; i < samples.length; i++) {
      const next = i + 1 < samples.length ? stamps[i + 1] : profile.endTime;
      times.set(samples[i], (times.get(samples[i]) ?? 0) + Math.max(0, next - stamps[i]));
    }
    return times;
  }
  const hits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const each = hits ? (profile.endTime - profile.startTime) / hits : 0;
  for (const node of profile.nodes) if (node.hitCount) times.set(node.id, node.hitCount * each);
  return times;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where a function lives: its npm package, `node:` built-ins, a repository file, or V8's own pseudo-frames. */
export function sourceOf(url: string, functionName: string, root = ROOT): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native: V8 built-ins and Node bindings)';
  if (url.startsWith('node:')) return 'node: built-in modules';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [first, second] = url.slice(modules + '/node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const relative = path.relative(root, file);
  return relative.startsWith('..') ? file : relative;
}

function functionKey(node: CpuProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const source = sourceOf(url, functionName, root);
  if (!url) return functionName || '(anonymous)';
  // Line numbers only for repository files, and only when V8 knows one (code loaded through tsx often reports 0).
  const line = lineNumber > 0 && source.includes('/') ? `:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} (${source}${line})`;
}

function top(map: Map<string, number>, busy: number, n: number): SelfTime[] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, share: busy ? Math.round((us / busy) * 1000) / 1000 : 0 }));
}

/** The top `n` functions and files/packages by self time. */
export function summarizeProfile(profile: CpuProfile, n = 15, root = ROOT): ProfileSummary {
  const times = selfTimes(profile);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (const [id, us] of times) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const name = node.callFrame.functionName;
    if (name === '(idle)') { idle += us; continue; }
    if (name === '(garbage collector)') gc += us;
    const fn = functionKey(node, root);
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    const file = sourceOf(node.callFrame.url, name, root);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const busy = total - idle;
  return {
    totalMs: Math.round(total / 1000), busyMs: Math.round(busy / 1000), gcShare: busy ? Math.round((gc / busy) * 1000) / 1000 : 0,
    functions: top(functions, busy, n), files: top(files, busy, n),
  };
}

/**
 * One profile from several (a workload's runs): node ids renumbered, every root's children hung
 * under the first root, and the timeline made contiguous, so the idle gaps between runs are left out.
 */
export function mergeProfiles(profiles: CpuProfile[]): CpuProfile {
  if (profiles.length === 1) return profiles[0];
  const [first, ...rest] = profiles;
  const nodes = first.nodes.map((n) => ({ ...n, children: [...(n.children ?? [])] }));
  const root = nodes[0];
  const samples = [...(first.samples ?? [])];
  const timeDeltas = [...(first.timeDeltas ?? [])];
  let end = first.endTime;
  let lastStamp = first.startTime + timeDeltas.reduce((a, b) => a + b, 0);
  let offset = Math.max(...nodes.map((n) => n.id));
  for (const p of rest) {
    const rootId = p.nodes[0].id;
    const id = (old: number) => (old === rootId ? root.id : old + offset);
    for (const n of p.nodes.slice(1)) nodes.push({ ...n, id: id(n.id), children: (n.children ?? []).map(id) });
    root.children!.push(...(p.nodes[0].children ?? []).map(id));
    const deltas = p.timeDeltas ?? [];
    samples.push(...(p.samples ?? []).map(id));
    deltas.forEach((d, i) => timeDeltas.push(i === 0 ? end - lastStamp + d : d));
    const span = deltas.reduce((a, b) => a + b, 0);
    lastStamp = end + span;
    end += p.endTime - p.startTime;
    offset = Math.max(...nodes.map((n) => n.id));
  }
  return { nodes, startTime: first.startTime, endTime: end, samples, timeDeltas };
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

/** The Markdown summary of one workload's profile. */
export function renderProfileSummary(title: string, file: string, s: ProfileSummary): string {
  return [
    `# CPU profile: ${title}`,
    '',
    `Profile: \`${file}\` (open it in Chrome DevTools → Performance, or speedscope.app). Sampled ${(s.totalMs / 1000).toFixed(1)} s of the fhirgraph process's main thread, busy ${(s.busyMs / 1000).toFixed(1)} s; garbage collection ${pct(s.gcShare)} of the busy time. Shares below are of the busy time (self time: the function itself, not what it calls). Samples are wall-clock: on a loaded machine, time the thread spends descheduled inside a system call (\`writev\` to a socket) counts for that call.`,
    '',
    '## Top files and packages by self time',
    '',
    '| file or package | self ms | share |',
    '|---|---:|---:|',
    ...s.files.map((f) => `| ${f.name} | ${f.ms.toLocaleString('en-US')} | ${pct(f.share)} |`),
    '',
    '## Top functions by self time',
    '',
    '| function | self ms | share |',
    '|---|---:|---:|',
    ...s.functions.map((f) => `| ${f.name.replace(/\|/g, '\\|')} | ${f.ms.toLocaleString('en-US')} | ${pct(f.share)} |`),
    '',
  ].join('\n');
}
