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
  const parts = [
    SOI,
    segment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1')),
    segment(0xdb, filler(65, 9)),
    segment(0xc2, filler(15, 10)),
    segment(0xc4, filler(30, 11)),
  ];
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
  const body = Buffer.concat([
    Buffer.from('WEBP'),
    riffChunk('VP8X', vp8x),
    riffChunk('ANIM', filler(6, 60)),
    riffChunk('ANMF', filler(frameSize, 61)),
    riffChunk('ANMF', filler(frameSize, 62)),
  ]);
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

/** An EBML variable-length integer (RFC 8794 §4) of `length` bytes; `undefined` value writes the all-ones "unknown size". */
function vint(value: number | undefined, length: number): Buffer {
  const out = Buffer.alloc(length);
  if (value === undefined) {
    out.fill(0xff);
  } else {
    let rest = value;
    for (let i = length - 1; i >= 0; i--, rest = Math.floor(rest / 256)) out[i] = rest % 256;
  }
  out[0] = (out[0]! & (0xff >> length)) | (0x80 >> (length - 1));
  return out;
}

/** The shortest VINT length for a size: 7 data bits per byte, the all-ones value reserved. */
function vintLength(value: number): number {
  let length = 1;
  while (value >= 2 ** (7 * length) - 1) length++;
  return length;
}

/** An element ID as written: its length marker sits in its top nibble, so its hex digits come in pairs. */
function elementId(id: number): Buffer {
  return Buffer.from(id.toString(16), 'hex');
}

/** An EBML element: its ID, its size as a VINT (`sizeLength` bytes, or the fewest), its data. */
function ebml(id: number, data: Buffer, sizeLength = vintLength(data.length)): Buffer {
  return Buffer.concat([elementId(id), vint(data.length, sizeLength), data]);
}

/** An EBML unsigned integer element, big-endian in `bytes` bytes. */
function ebmlUint(id: number, value: number, bytes = 1): Buffer {
  const data = Buffer.alloc(bytes);
  data.writeUIntBE(value, 0, bytes);
  return ebml(id, data);
}

/** An EBML string element. */
function ebmlString(id: number, text: string): Buffer {
  return ebml(id, Buffer.from(text, 'latin1'));
}

/**
 * A Matroska file as muxers write it (RFC 9559): the EBML header naming `docType`, then one Segment
 * sized in 8 bytes (as mkvmerge and libwebm leave room for) holding SeekHead, Info, Tracks (one VP9
 * video track), two Clusters of SimpleBlocks and Cues; with `unknownSize`, the Segment's size is the
 * all-ones "unknown" of a live stream.
 */
export function matroska(docType: 'webm' | 'matroska' = 'webm', frameSize = 1_500, unknownSize = false): Buffer {
  const header = ebml(
    0x1a45dfa3,
    Buffer.concat([
      ebmlUint(0x4286, 1), // EBMLVersion
      ebmlUint(0x42f7, 1), // EBMLReadVersion
      ebmlUint(0x42f2, 4), // EBMLMaxIDLength
      ebmlUint(0x42f3, 8), // EBMLMaxSizeLength
      ebmlString(0x4282, docType),
      ebmlUint(0x4287, 4), // DocTypeVersion
      ebmlUint(0x4285, 2), // DocTypeReadVersion
    ]),
  );
  const info = ebml(0x1549a966, Buffer.concat([ebmlUint(0x2ad7b1, 1_000_000, 3), ebmlString(0x4d80, 'test-muxer'), ebmlString(0x5741, 'test-writer')]));
  const video = ebml(0xe0, Buffer.concat([ebmlUint(0xb0, 640, 2), ebmlUint(0xba, 360, 2)]));
  const tracks = ebml(0x1654ae6b, ebml(0xae, Buffer.concat([ebmlUint(0xd7, 1), ebmlUint(0x73c5, 0x5eed, 2), ebmlUint(0x83, 1), ebmlString(0x86, 'V_VP9'), video])));
  // SimpleBlock: track number (VINT), a 16-bit timestamp relative to the cluster, flags (0x80 keyframe), the frame.
  const block = (time: number, seed: number): Buffer => {
    const head = Buffer.from([0x81, 0, 0, 0x80]);
    head.writeInt16BE(time, 1);
    return ebml(0xa3, Buffer.concat([head, filler(frameSize, seed)]));
  };
  const cluster = (time: number, seed: number): Buffer => ebml(0x1f43b675, Buffer.concat([ebmlUint(0xe7, time, 2), block(0, seed), block(33, seed + 1), block(66, seed + 2)]));
  const clusters = [cluster(0, 100), cluster(100, 110)];
  // SeekHead entries and cue positions count from the start of the Segment's data; fixed-width so the layout is known up front.
  const seek = (id: number, position: number): Buffer => ebml(0x4dbb, Buffer.concat([ebml(0x53ab, elementId(id)), ebmlUint(0x53ac, position, 4)]));
  const seekHeadLength = ebml(0x114d9b74, Buffer.concat([seek(0x1549a966, 0), seek(0x1654ae6b, 0), seek(0x1c53bb6b, 0)])).length;
  const clustersAt = seekHeadLength + info.length + tracks.length;
  const cuePoint = (time: number, position: number): Buffer =>
    ebml(0xbb, Buffer.concat([ebmlUint(0xb3, time, 2), ebml(0xb7, Buffer.concat([ebmlUint(0xf7, 1), ebmlUint(0xf1, position, 4)]))]));
  const cues = ebml(0x1c53bb6b, Buffer.concat([cuePoint(0, clustersAt), cuePoint(100, clustersAt + clusters[0]!.length)]));
  const cuesAt = clustersAt + clusters[0]!.length + clusters[1]!.length;
  const seekHead = ebml(0x114d9b74, Buffer.concat([seek(0x1549a966, seekHeadLength), seek(0x1654ae6b, seekHeadLength + info.length), seek(0x1c53bb6b, cuesAt)]));
  const content = Buffer.concat([seekHead, info, tracks, ...clusters, cues]);
  return Buffer.concat([header, elementId(0x18538067), vint(unknownSize ? undefined : content.length, 8), content]);
}

/** The CRC-32 of Ogg pages: polynomial 0x04C11DB7, not reflected, initial value 0 (RFC 3533 §6). */
function oggCrc(page: Buffer): number {
  let crc = 0;
  for (const byte of page) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** An Ogg page (RFC 3533 §6) holding whole `packets`, laced into 255-byte segments, with its CRC. */
export function oggPage(headerType: number, granule: number, serial: number, sequence: number, packets: Buffer[]): Buffer {
  const lacing: number[] = [];
  for (const packet of packets) {
    for (let left = packet.length; left >= 255; left -= 255) lacing.push(255);
    lacing.push(packet.length % 255); // a packet of a multiple of 255 bytes ends on a 0
  }
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'latin1');
  header[5] = headerType;
  header.writeBigInt64LE(BigInt(granule), 6);
  header.writeUInt32LE(serial, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = lacing.length;
  const page = Buffer.concat([header, Buffer.from(lacing), ...packets]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

/** Ogg header_type flags (RFC 3533 §6). */
const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

/**
 * An Ogg Opus stream (RFC 7845): an `OpusHead` page (beginning of stream), an `OpusTags` page, then
 * `audioPages` pages of four 20 ms packets; the last page carries the end-of-stream flag unless
 * `endOfStream` is false (a muxer that never finished). Chained files are two of these, with other serials.
 */
export function oggOpus({ audioPages = 2, packetSize = 700, endOfStream = true, serial = 0x0a0b0c0d } = {}): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = 2; // channels
  head.writeUInt16LE(312, 10); // pre-skip
  head.writeUInt32LE(48_000, 12); // input sample rate
  const vendor = 'test-encoder';
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  tags.write(vendor, 12, 'latin1');
  const pages = [oggPage(OGG_BOS, 0, serial, 0, [head]), oggPage(0, 0, serial, 1, [tags])];
  for (let page = 0; page < audioPages; page++) {
    const packets = [0, 1, 2, 3].map((i) => filler(packetSize, serial + page * 4 + i));
    const last = page === audioPages - 1;
    pages.push(oggPage(last && endOfStream ? OGG_EOS : 0, (page + 1) * 4 * 960, serial, page + 2, packets));
  }
  return Buffer.concat(pages);
}
