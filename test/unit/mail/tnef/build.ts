// Test-only TNEF writer (MS-OXTNEF), laying attributes out in the order
// Outlook uses: attTnefVersion, attOemCodepage, attMessageClass, then per
// attachment attAttachRenddata, attAttachTitle, attAttachData, attAttachment.

export interface BuildAttachment {
  title?: string | Buffer;
  shortName?: string;
  longName?: string;
  mimeTag?: string;
  data: Buffer;
}

function attribute(level: number, id: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head[0] = level;
  head.writeUInt32LE(id >>> 0, 1);
  head.writeUInt32LE(data.length, 5);
  let sum = 0;
  for (const b of data) sum = (sum + b) & 0xffff;
  const tail = Buffer.alloc(2);
  tail.writeUInt16LE(sum, 0);
  return Buffer.concat([head, data, tail]);
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
};
const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);

/** One variable-length property: type, id, count 1, length, value padded to 4. */
function variableProp(type: number, id: number, value: Buffer): Buffer {
  const tag = Buffer.alloc(4);
  tag.writeUInt16LE(type, 0);
  tag.writeUInt16LE(id, 2);
  return Buffer.concat([tag, u32(1), u32(value.length), pad(value)]);
}

function longProp(id: number, value: number): Buffer {
  const tag = Buffer.alloc(4);
  tag.writeUInt16LE(0x0003, 0);
  tag.writeUInt16LE(id, 2);
  return Buffer.concat([tag, u32(value)]);
}

/** `title` and `shortName` are written as latin1 unless given as bytes already encoded in `codepage`. */
export function buildTnef(attachments: BuildAttachment[], codepage = 1252): Buffer {
  const parts: Buffer[] = [u32(0x223e9f78), Buffer.from([0x01, 0x00])];
  parts.push(attribute(0x01, 0x00089006, u32(0x00010000))); // attTnefVersion
  parts.push(attribute(0x01, 0x00069007, Buffer.concat([u32(codepage), u32(0)]))); // attOemCodepage
  parts.push(attribute(0x01, 0x00078008, Buffer.from('IPM.Microsoft Mail.Note\0', 'latin1'))); // attMessageClass
  for (const a of attachments) {
    const rend = Buffer.alloc(14);
    rend.writeUInt16LE(1, 0); // attachment type: file
    rend.writeInt32LE(-1, 2); // position
    parts.push(attribute(0x02, 0x00069002, rend)); // attAttachRenddata
    if (a.title !== undefined) {
      const title = typeof a.title === 'string' ? Buffer.from(a.title, 'latin1') : a.title;
      parts.push(attribute(0x02, 0x00018010, Buffer.concat([title, Buffer.from([0])])));
    }
    parts.push(attribute(0x02, 0x0006800f, a.data)); // attAttachData
    const props: Buffer[] = [longProp(0x3705, 1)]; // PR_ATTACH_METHOD = ATTACH_BY_VALUE
    if (a.shortName !== undefined) props.push(variableProp(0x001e, 0x3704, Buffer.from(`${a.shortName}\0`, 'latin1')));
    if (a.longName !== undefined) props.push(variableProp(0x001f, 0x3707, Buffer.from(`${a.longName}\0`, 'utf16le')));
    if (a.mimeTag !== undefined) props.push(variableProp(0x001e, 0x370e, Buffer.from(`${a.mimeTag}\0`, 'latin1')));
    parts.push(attribute(0x02, 0x00069005, Buffer.concat([u32(props.length), ...props]))); // attAttachment
  }
  return Buffer.concat(parts);
}
