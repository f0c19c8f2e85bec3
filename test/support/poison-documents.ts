import { deflateSync } from 'node:zlib';

// Hostile documents built in the test, each a few hundred bytes on disk: what they claim (page size,
// page count) or what they cost to draw is out of all proportion to their size.

/** A one-page PDF with this MediaBox (points) and this content stream (compressed). */
export function pdfWithPage(widthPt: number, heightPt: number, content = '0 0 10 10 re f'): Buffer {
  const stream = deflateSync(Buffer.from(content));
  const objects = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${widthPt} ${heightPt}] /Contents 4 0 R >>`),
    Buffer.concat([
      Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`),
      stream,
      Buffer.from('\nendstream'),
    ]),
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  let length = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    const object = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(object);
    length += object.length;
  });
  const xref = offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  parts.push(
    Buffer.from(
      `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${xref}` +
        `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`,
    ),
  );
  return Buffer.concat(parts);
}

/** A letter page that fills a large rectangle `fills` times: tiny compressed, seconds to render. */
export function slowPdf(fills = 3000): Buffer {
  return pdfWithPage(612, 792, `0.5 g\n${'10 10 590 770 re f\n'.repeat(fills)}`);
}

/**
 * A little-endian TIFF, one 8-bit grayscale page per entry. A page's strip holds width × height
 * bytes when that is small; a page claiming more carries a single byte (its header is the point).
 */
export function tiffWithPages(pages: { width: number; height: number }[]): Buffer {
  const ENTRIES = 8;
  const ifdSize = 2 + ENTRIES * 12 + 4;
  const strips = pages.map(({ width, height }) => (width * height <= 1_000_000 ? width * height : 1));
  const header = 8;
  const ifdStart = (i: number) => header + i * ifdSize;
  let dataOffset = ifdStart(pages.length);
  const stripOffsets = strips.map((size) => {
    const offset = dataOffset;
    dataOffset += size;
    return offset;
  });
  const out = Buffer.alloc(dataOffset, 0xff);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(ifdStart(0), 4);
  pages.forEach(({ width, height }, i) => {
    let at = ifdStart(i);
    out.writeUInt16LE(ENTRIES, at);
    at += 2;
    const entry = (tag: number, type: 3 | 4, value: number) => {
      out.writeUInt16LE(tag, at);
      out.writeUInt16LE(type, at + 2);
      out.writeUInt32LE(1, at + 4);
      out.writeUInt32LE(0, at + 8);
      if (type === 3) out.writeUInt16LE(value, at + 8);
      else out.writeUInt32LE(value, at + 8);
      at += 12;
    };
    entry(256, 4, width); // ImageWidth
    entry(257, 4, height); // ImageLength
    entry(258, 3, 8); // BitsPerSample
    entry(259, 3, 1); // Compression: none
    entry(262, 3, 1); // Photometric: black is zero
    entry(273, 4, stripOffsets[i] ?? 0); // StripOffsets
    entry(278, 4, height); // RowsPerStrip
    entry(279, 4, strips[i] ?? 0); // StripByteCounts
    out.writeUInt32LE(i + 1 < pages.length ? ifdStart(i + 1) : 0, at);
  });
  return out;
}
