// Reader for the MAPI property lists inside TNEF attributes (MS-OXTNEF
// 2.1.3.4: attMAPIProps, attAttachment). Split from tnef.ts because the
// property encoding (types, named properties, multi-values, 4-byte padding)
// is its own small format. Every count and length is checked against the
// bytes that remain; a list that does not fit ends the list, it never reads
// past the attribute it came from.

import { TextDecoder } from 'node:util';

export interface MapiProperty {
  /** Property id (e.g. 0x3707 for PR_ATTACH_LONG_FILENAME); named properties keep their mapped id. */
  id: number;
  /** Property type without the multi-value flag (e.g. 0x001f for PT_UNICODE). */
  type: number;
  /** Raw values: one for a single-valued property. Slices of the input, not copies. */
  values: Buffer[];
}

export const PT = {
  SHORT: 0x0002,
  LONG: 0x0003,
  BOOLEAN: 0x000b,
  OBJECT: 0x000d,
  STRING8: 0x001e,
  UNICODE: 0x001f,
  BINARY: 0x0102,
} as const;

const MV_FLAG = 0x1000;

/** Byte sizes of fixed-size property types; each value is padded to 4 bytes. */
const FIXED_SIZE: ReadonlyMap<number, number> = new Map([
  [0x0001, 4], // PT_NULL
  [0x0002, 2], // PT_SHORT
  [0x0003, 4], // PT_LONG
  [0x0004, 4], // PT_FLOAT
  [0x0005, 8], // PT_DOUBLE
  [0x0006, 8], // PT_CURRENCY
  [0x0007, 8], // PT_APPTIME
  [0x000a, 4], // PT_ERROR
  [0x000b, 2], // PT_BOOLEAN
  [0x0014, 8], // PT_I8
  [0x0040, 8], // PT_SYSTIME
  [0x0048, 16], // PT_CLSID
]);

const VARIABLE = new Set<number>([PT.OBJECT, PT.STRING8, PT.UNICODE, PT.BINARY]);

const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * Reads a MAPI property list. Returns what could be read: a list cut short or
 * of an unknown type yields the properties before the problem.
 */
export function readMapiProperties(data: Buffer, maxProperties: number): MapiProperty[] {
  const props: MapiProperty[] = [];
  if (data.length < 4) return props;
  const count = data.readUInt32LE(0);
  let pos = 4;
  // Each property takes at least 8 bytes, so the count is bounded by the data.
  const limit = Math.min(count, maxProperties, Math.floor((data.length - 4) / 8));
  for (let i = 0; i < limit; i++) {
    const read = readProperty(data, pos);
    if (read === null) break;
    props.push(read.prop);
    pos = read.next;
  }
  return props;
}

function readProperty(data: Buffer, start: number): { prop: MapiProperty; next: number } | null {
  let pos = start;
  if (pos + 4 > data.length) return null;
  const rawType = data.readUInt16LE(pos);
  const id = data.readUInt16LE(pos + 2);
  pos += 4;
  if (id >= 0x8000) {
    // Named property: GUID, kind, then a numeric id or a UTF-16 name.
    if (pos + 20 > data.length) return null;
    const kind = data.readUInt32LE(pos + 16);
    pos += 20;
    if (kind === 0) {
      pos += 4;
    } else if (kind === 1) {
      if (pos + 4 > data.length) return null;
      const nameLength = data.readUInt32LE(pos);
      pos += 4;
      if (nameLength > data.length - pos) return null;
      pos += pad4(nameLength);
    } else {
      return null;
    }
  }
  const type = rawType & ~MV_FLAG;
  const multi = (rawType & MV_FLAG) !== 0;
  const fixed = FIXED_SIZE.get(type);
  if (fixed === undefined && !VARIABLE.has(type)) return null;

  let valueCount = 1;
  if (multi || fixed === undefined) {
    // Multi-valued properties, and single variable-length ones, carry a count.
    if (pos + 4 > data.length) return null;
    valueCount = data.readUInt32LE(pos);
    pos += 4;
  }
  const values: Buffer[] = [];
  for (let v = 0; v < valueCount; v++) {
    if (fixed !== undefined) {
      if (pos + fixed > data.length) return null;
      values.push(data.subarray(pos, pos + fixed));
      pos += pad4(fixed);
    } else {
      if (pos + 4 > data.length) return null;
      const length = data.readUInt32LE(pos);
      pos += 4;
      if (length > data.length - pos) return null;
      values.push(data.subarray(pos, pos + length));
      pos += pad4(length);
    }
    if (pos > data.length) pos = data.length;
  }
  return { prop: { id, type, values }, next: pos };
}

/** Windows code pages that TextDecoder knows by another name. */
const CODEPAGES: ReadonlyMap<number, string> = new Map([
  [932, 'shift_jis'],
  [936, 'gbk'],
  [949, 'euc-kr'],
  [950, 'big5'],
  [20866, 'koi8-r'],
  [21866, 'koi8-u'],
  [65001, 'utf-8'],
]);

/** A TextDecoder for a Windows code page (attOemCodepage / PR_INTERNET_CPID); windows-1252 when unknown. */
export function decoderFor(codepage: number | null): TextDecoder {
  if (codepage !== null) {
    const label = CODEPAGES.get(codepage) ?? (codepage >= 28591 && codepage <= 28605 ? `iso-8859-${codepage - 28590}` : `windows-${codepage}`);
    try {
      return new TextDecoder(label);
    } catch {
      // Unknown to this runtime: fall through to the default.
    }
  }
  return new TextDecoder('windows-1252');
}

/** A string property's value (PT_UNICODE as UTF-16LE, PT_STRING8 in the code page), without trailing NULs. */
export function propertyString(prop: MapiProperty, decoder: TextDecoder): string | null {
  const value = prop.values[0];
  if (value === undefined) return null;
  let text: string;
  if (prop.type === PT.UNICODE) text = value.toString('utf16le');
  else if (prop.type === PT.STRING8 || prop.type === PT.BINARY) text = decoder.decode(value);
  else return null;
  const nul = text.indexOf('\0');
  return nul === -1 ? text : text.slice(0, nul);
}

/** A PT_LONG / PT_SHORT property's value, or null. */
export function propertyNumber(prop: MapiProperty): number | null {
  const value = prop.values[0];
  if (value === undefined) return null;
  if (prop.type === PT.LONG && value.length >= 4) return value.readInt32LE(0);
  if (prop.type === PT.SHORT && value.length >= 2) return value.readInt16LE(0);
  return null;
}
