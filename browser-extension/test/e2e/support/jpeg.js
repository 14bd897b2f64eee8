// Flip one byte in a JPEG's entropy-coded scan data (not in its C2PA manifest), the way
// the service's own tests tamper media (tests/support/tamper.py).
export function flipScanByte(data) {
  const out = Buffer.from(data);
  const sos = out.lastIndexOf(Buffer.from([0xff, 0xda]));
  const eoi = out.lastIndexOf(Buffer.from([0xff, 0xd9]));
  if (sos < 0 || eoi < sos) throw new Error('not a baseline JPEG with one scan');
  const start = sos + 2 + out.readUInt16BE(sos + 2);
  let index = start + Math.floor((eoi - start) / 2);
  while (out[index] === 0xff || out[index - 1] === 0xff) index += 1;
  let value = out[index] ^ 0x04;
  if (value === 0x00 || value === 0xff) value = out[index] ^ 0x02;
  out[index] = value;
  return { data: out, index };
}
