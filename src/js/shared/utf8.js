// UTF-8 TextEncoder/TextDecoder for hosts that lack them (mini-program
// devices). esbuild injects these where wasm-bindgen's glue names the
// globals; only the calls that glue makes are supported.
function encodeInto(str, view) {
  let read = 0, written = 0;
  for (let i = 0; i < str.length; i++) {
    let cp = str.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < str.length) {
      const lo = str.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (written + size > view.length) break;
    if (size === 1) view[written++] = cp;
    else if (size === 2) { view[written++] = 0xc0 | (cp >> 6); view[written++] = 0x80 | (cp & 63); }
    else if (size === 3) { view[written++] = 0xe0 | (cp >> 12); view[written++] = 0x80 | ((cp >> 6) & 63); view[written++] = 0x80 | (cp & 63); }
    else { view[written++] = 0xf0 | (cp >> 18); view[written++] = 0x80 | ((cp >> 12) & 63); view[written++] = 0x80 | ((cp >> 6) & 63); view[written++] = 0x80 | (cp & 63); }
    read += size === 4 ? 2 : 1;
    if (size === 4) i++;
  }
  return { read, written };
}

export class TextEncoder {
  get encoding() { return 'utf-8'; }
  encode(str = '') {
    const out = new Uint8Array(str.length * 3);
    return out.slice(0, encodeInto(str, out).written);
  }
  encodeInto(str, view) { return encodeInto(str, view); }
}

export class TextDecoder {
  constructor(label = 'utf-8', options = {}) {
    if (!/^utf-?8$/i.test(label)) throw new RangeError('only utf-8 is supported');
    this.fatal = !!options.fatal;
  }
  get encoding() { return 'utf-8'; }
  decode(input) {
    if (!input) return '';
    const b = input instanceof Uint8Array ? input : new Uint8Array(input.buffer || input);
    let out = '';
    for (let i = 0; i < b.length;) {
      const c = b[i];
      const need = c < 0x80 ? 0 : c >= 0xf0 && c < 0xf8 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
      let cp = need === 0 ? c : need === 1 ? c & 31 : need === 2 ? c & 15 : c & 7;
      let ok = need >= 0 && i + need < b.length;
      for (let k = 1; ok && k <= need; k++) {
        const cc = b[i + k];
        if (cc === undefined || (cc & 0xc0) !== 0x80) ok = false; else cp = (cp << 6) | (cc & 63);
      }
      if (ok && (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (need === 2 && cp < 0x800) || (need === 3 && cp < 0x10000))) ok = false;
      if (!ok) {
        if (this.fatal) throw new TypeError('The encoded data was not valid utf-8');
        out += '\ufffd';
        i += 1;
        continue;
      }
      out += cp < 0x10000 ? String.fromCharCode(cp) : String.fromCharCode(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 1023));
      i += need + 1;
    }
    return out;
  }
}
