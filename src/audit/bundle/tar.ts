import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * A minimal POSIX ustar writer and a strict reader for audit bundles. Hand-written rather than
 * a tar library because the reader must refuse *any* changed byte — in a header's unused
 * fields, in the padding after a file, in the end-of-archive blocks — which general tar
 * readers deliberately tolerate. Every header is rebuilt from its name, size and time and
 * compared byte for byte, padding and the end blocks must be zeros.
 */
const BLOCK = 512;
const END_BLOCKS = 2;
const NAME_BYTES = 100;

export function tarHeader(name: string, size: number, mtimeSeconds: number): Buffer {
  if (Buffer.byteLength(name) >= NAME_BYTES) throw new Error(`tar entry name too long: ${name}`);
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 'utf8');
  header.write('0000644\0', 100, 'ascii');
  header.write('0000000\0', 108, 'ascii');
  header.write('0000000\0', 116, 'ascii');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  header.write(`${mtimeSeconds.toString(8).padStart(11, '0')}\0`, 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** One file of the archive: header, contents, zero padding to the block size. */
export const tarEntry = (name: string, contents: Buffer, mtimeSeconds: number): Buffer[] => [tarHeader(name, contents.length, mtimeSeconds), contents, padding(contents.length)];

/** The end of an archive: two zero blocks. */
export const tarEnd = (): Buffer => Buffer.alloc(BLOCK * END_BLOCKS);

export interface TarEntryInfo {
  name: string;
  /** Where the contents start in the file, and their length. */
  offset: number;
  size: number;
}

export class TarFormatError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** An archive on disk, read in place: entries are listed once, contents read on demand. */
export class TarFile {
  private constructor(
    private readonly fd: number,
    readonly entries: readonly TarEntryInfo[],
  ) {}

  /** Opens and checks the whole structure; throws `TarFormatError` at the first bad byte. */
  static open(path: string): TarFile {
    const fd = openSync(path, 'r');
    try {
      return new TarFile(fd, scan(fd, fstatSync(fd).size));
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  read(entry: TarEntryInfo, start = 0, length = entry.size - start): Buffer {
    const buffer = Buffer.alloc(length);
    readExactly(this.fd, buffer, entry.offset + start);
    return buffer;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function scan(fd: number, fileSize: number): TarEntryInfo[] {
  const entries: TarEntryInfo[] = [];
  const block = Buffer.alloc(BLOCK);
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > fileSize) throw new TarFormatError(offset, 'the archive ends without its end-of-archive blocks');
    readExactly(fd, block, offset);
    if (block.every((byte) => byte === 0)) break;
    const size = parseOctal(block.subarray(124, 136));
    const mtime = parseOctal(block.subarray(136, 148));
    const field = block.subarray(0, NAME_BYTES);
    const name = field.subarray(0, field.includes(0) ? field.indexOf(0) : NAME_BYTES - 1).toString('utf8');
    if (size === undefined || mtime === undefined || name === '' || !tarHeader(name, size, mtime).equals(block)) {
      throw new TarFormatError(offset, `the header at byte ${offset} is corrupt`);
    }
    if (entries.some((e) => e.name === name)) throw new TarFormatError(offset, `${name} appears twice`);
    const contentOffset = offset + BLOCK;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (contentOffset + padded > fileSize) throw new TarFormatError(offset, `${name} is cut short`);
    const pad = Buffer.alloc(padded - size);
    readExactly(fd, pad, contentOffset + size);
    const stray = pad.findIndex((byte) => byte !== 0);
    if (stray >= 0) throw new TarFormatError(contentOffset + size + stray, `the padding after ${name} is not zero at byte ${contentOffset + size + stray}`);
    entries.push({ name, offset: contentOffset, size });
    offset = contentOffset + padded;
  }
  const rest = Buffer.alloc(fileSize - offset);
  readExactly(fd, rest, offset);
  if (rest.length < BLOCK * END_BLOCKS) throw new TarFormatError(offset, 'the end-of-archive blocks are cut short');
  const stray = rest.findIndex((byte) => byte !== 0);
  if (stray >= 0) throw new TarFormatError(offset + stray, `non-zero byte ${offset + stray} after the end of the archive`);
  return entries;
}

function parseOctal(field: Buffer): number | undefined {
  const text = field.toString('ascii').replace(/\0$/, '');
  return /^[0-7]{11}$/.test(text) ? parseInt(text, 8) : undefined;
}

function readExactly(fd: number, buffer: Buffer, position: number): void {
  let done = 0;
  while (done < buffer.length) {
    const read = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (read === 0) throw new TarFormatError(position + done, 'unexpected end of file');
    done += read;
  }
}
