/** `10k`, `100k`, `1m` or a plain number of resources, with the label the results are filed under. */
export function parseScale(text: string | undefined): { scale: number; label: string } {
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(String(text ?? '').trim());
  if (!match) throw new Error(`--scale must be like 10k, 100k, 1m or a number, got "${text}"`);
  const scale = Math.round(Number(match[1]) * ({ k: 1e3, m: 1e6 }[match[2].toLowerCase()] ?? 1));
  if (scale < 100) throw new Error('--scale must be at least 100');
  return { scale, label: match[0].toLowerCase() };
}
