import type { Tally } from './tally.js';

/** What the status line shows besides the tally: the recent rates, when known. */
export interface StatusRates {
  bytesPerSecond: number;
  itemsPerSecond: number;
}

/** One piece of the status line, in a long and a short form; pieces are dropped from the least important. */
interface Piece {
  long: string;
  short: string;
  /** Lower is kept longer. */
  priority: number;
}

/**
 * The one line redrawn in place on a terminal, fitted to `width` columns: pieces get their short form,
 * then the least important are dropped, and a bar fills what room is left. Never longer than `width`,
 * so it never wraps (a wrapped line cannot be redrawn in place and scrolls the screen).
 */
export function statusLine(tally: Tally, rates: StatusRates | undefined, width: number): string {
  const total = tally.inputComplete ? tally.total : tally.expected;
  const totalText = total === undefined ? '?' : `${tally.inputComplete ? '' : '~'}${total}`;
  const fraction = total !== undefined && total > 0 ? Math.min(1, tally.done / total) : undefined;
  const bytes = tally.bytes + tally.inFlightBytes;
  const remaining = total === undefined ? undefined : Math.max(0, total - tally.done);
  const eta = rates && remaining !== undefined && rates.itemsPerSecond > 0 ? formatDuration(remaining / rates.itemsPerSecond) : '?';
  const problems = [tally.failed > 0 ? `${tally.failed} failed` : '', tally.missing > 0 ? `${tally.missing} missing` : ''].filter(Boolean).join(' ');
  // A worker has no total of its own: it shows what it did and what is left in the queue it shares.
  const worker = tally.queued !== undefined;
  const pieces: Piece[] = [
    ...(fraction === undefined ? [] : [{ long: `${Math.floor(fraction * 100)}%`.padStart(4), short: `${Math.floor(fraction * 100)}%`, priority: 1 }]),
    worker ? { long: `${tally.done} files`, short: `${tally.done}`, priority: 0 } : { long: `${tally.done}/${totalText} files`, short: `${tally.done}/${totalText}`, priority: 0 },
    ...(worker ? [{ long: `${tally.queued} left in queue`, short: `${tally.queued} left`, priority: 1 }] : []),
    { long: formatBytes(bytes), short: formatBytes(bytes), priority: 5 },
    { long: `${formatBytes(rates?.bytesPerSecond ?? 0)}/s`, short: `${formatBytes(rates?.bytesPerSecond ?? 0)}/s`, priority: 3 },
    ...(worker ? [] : [{ long: `ETA ${eta}`, short: eta, priority: 4 }]),
    ...(problems === '' ? [] : [{ long: problems, short: problems, priority: 2 }]),
  ];
  let kept = pieces;
  let text = join(kept, 'long');
  if (text.length > width) text = join(kept, 'short');
  while (text.length > width && kept.length > 1) {
    const least = Math.max(...kept.map((p) => p.priority));
    kept = kept.filter((p) => p.priority !== least);
    text = join(kept, 'short');
  }
  if (text.length > width) return text.slice(0, Math.max(0, width));
  // The bar takes the room that is left, when there is enough of it to mean something.
  const room = width - text.length - 1;
  if (fraction === undefined || room < 12) return text;
  const inner = Math.min(room, 40) - 2;
  const filled = Math.round(fraction * inner);
  return `[${'#'.repeat(filled)}${'.'.repeat(inner - filled)}] ${text}`;
}

function join(pieces: Piece[], form: 'long' | 'short'): string {
  return pieces.map((p) => p[form]).join(form === 'long' ? '  ' : ' ');
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** 75 → "1m15s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}
