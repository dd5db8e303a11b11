import { filler } from './fixtures.js';

/**
 * Media laid out the way real encoders write them (markers, chunks, boxes in their places, bodies
 * of filler), for the tests of format detection and structural completeness.
 */

/** Entropy-coded bytes as a JPEG scan holds them: every 0xFF is stuffed with 0x00, so no marker appears. */
function scanData(size: number, seed: number): Buffer {
  const data = filler(size, seed);
  for (let i = 0; i < data.length - 1; i++) if (data[i] === 0xff) data[i + 1] = 0x00;
  if (data[data.length - 1] === 0xff) data[data.length - 1] = 0x00;
  return data;
}

/** A marker segment: FF xx, a 2-byte length that counts itself, then `payload`. */
function segment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xff00 | marker, 0);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

/** A progressive JPEG: SOF2 and three scans, each behind its own SOS, then EOI; with `trailer`, vendor bytes after EOI. */
export function progressiveJpeg(scanSize = 20_000, trailer?: Buffer): Buffer {
  const parts = [SOI, segment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1')), segment(0xdb, filler(65, 9)), segment(0xc2, filler(15, 10)), segment(0xc4, filler(30, 11))];
  for (let scan = 0; scan < 3; scan++) parts.push(segment(0xda, filler(10, 12 + scan)), scanData(scanSize, 20 + scan));
  parts.push(EOI);
  if (trailer) parts.push(trailer);
  return Buffer.concat(parts);
}

/** A baseline JPEG whose EXIF block carries a thumbnail JPEG (with its own EOI) before the main image. */
export function jpegWithThumbnail(scanSize = 20_000): Buffer {
  const thumbnail = Buffer.concat([SOI, segment(0xda, filler(10, 30)), scanData(2_000, 31), EOI]);
  const exif = segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), thumbnail]));
  return Buffer.concat([SOI, exif, segment(0xdb, filler(65, 9)), segment(0xc0, filler(15, 10)), segment(0xda, filler(10, 12)), scanData(scanSize, 40), EOI]);
}

/** A PNG chunk: length, type, data, CRC (filler: nothing here checks CRCs). */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, data, Buffer.from([0xae, 0x42, 0x60, 0x82])]);
}

/** An animated PNG: signature, IHDR, acTL before the image data, fcTL, IDAT, IEND. */
export function apng(dataSize = 10_000): Buffer {
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', filler(13, 50)),
    chunk('acTL', filler(8, 51)),
    chunk('fcTL', filler(26, 52)),
    chunk('IDAT', filler(dataSize, 53)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An animated WebP: RIFF whose size covers VP8X (animation flag), ANIM and two ANMF frames. */
export function animatedWebp(frameSize = 6_000): Buffer {
  const riffChunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32LE(data.length, 4);
    return Buffer.concat([head, data, data.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const vp8x = Buffer.alloc(10);
  vp8x[0] = 0x02; // animation
  const body = Buffer.concat([Buffer.from('WEBP'), riffChunk('VP8X', vp8x), riffChunk('ANIM', filler(6, 60)), riffChunk('ANMF', filler(frameSize, 61)), riffChunk('ANMF', filler(frameSize, 62))]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** An ISO-BMFF box. */
export function box(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length + 8, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, data]);
}

/** An `ftyp` box with a major brand and compatible brands. */
function ftyp(major: string, compatible: string[]): Buffer {
  return box('ftyp', Buffer.concat([Buffer.from(major, 'latin1'), Buffer.alloc(4), Buffer.from(compatible.join(''), 'latin1')]));
}

/** An AVIF still image: `ftyp avif`, `meta`, `mdat`. */
export function avif(dataSize = 8_000): Buffer {
  return Buffer.concat([ftyp('avif', ['avif', 'mif1', 'miaf']), box('meta', filler(200, 70)), box('mdat', filler(dataSize, 71))]);
}

/** An MP4 as a non-streaming encoder writes it: `ftyp`, `mdat`, then `moov` at the end. */
export function mp4MoovLast(dataSize = 40_000): Buffer {
  return Buffer.concat([ftyp('isom', ['isom', 'iso2', 'avc1', 'mp41']), box('free', Buffer.alloc(0)), box('mdat', filler(dataSize, 80)), box('moov', filler(3_000, 81))]);
}
