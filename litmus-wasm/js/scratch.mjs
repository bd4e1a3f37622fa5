// The call buffer (litmus-wasm/src/scratch.rs): bytes in WebAssembly memory that this layer
// writes a call's unit id and attributes into, so that an assignment crosses into
// WebAssembly as numbers: no string marshalling and no JSON of the attributes. Only the
// attributes the experiment reads are written, in the order the engine gave their names, as
// JSON.stringify would see them (own enumerable properties; NaN and infinities are null;
// functions, symbols and undefined are missing; lists and objects go as their JSON text).

const encoder = new TextEncoder();
const isEnumerable = Object.prototype.propertyIsEnumerable;

// Entry tags (scratch.rs).
const MISSING = 0;
const NULL = 1;
const FALSE = 2;
const TRUE = 3;
const NUMBER = 4;
const STRING = 5;
const JSON_TEXT = 6;

/** The length `assignAt` takes for "no attributes". */
export const NO_ATTRIBUTES = 0xffffffff;

/** One engine core's call buffer over the instance's `memory`. */
export class CallBuffer {
  #core;
  #memory;
  #bytes = new Uint8Array(0);
  #view = new DataView(new ArrayBuffer(0));
  #ptr = 0;
  #size = 0;

  constructor(core, memory) {
    this.#core = core;
    this.#memory = memory;
    this.#reserve(256);
  }

  /** At least `size` bytes from the buffer's start, what it held kept. */
  #reserve(size) {
    if (size > this.#size) {
      this.#ptr = this.#core.scratch(size);
      this.#size = size;
    }
    this.#fresh();
  }

  /** Views of the memory as it is now (growing the memory detaches the old ones). */
  #fresh() {
    if (this.#bytes.byteLength === 0 || this.#bytes.buffer !== this.#memory.buffer) {
      this.#bytes = new Uint8Array(this.#memory.buffer);
      this.#view = new DataView(this.#memory.buffer);
    }
  }

  /** Writes `s` as UTF-8 at `at` (room for 3 bytes per UTF-16 unit); returns its length. */
  #text(s, at) {
    const n = s.length;
    this.#reserve(at + 3 * n);
    const bytes = this.#bytes;
    const start = this.#ptr + at;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        // Lone surrogates become U+FFFD, as in wasm-bindgen's own strings.
        return encoder.encodeInto(s, bytes.subarray(start, start + 3 * n)).written;
      }
      bytes[start + i] = c;
    }
    return n;
  }

  /** Writes the unit id at the buffer's start; returns its length in bytes. */
  unit(unitId) {
    return this.#text(unitId, 0);
  }

  /**
   * Writes the values that `names` have in `attributes` from byte `at`; returns the bytes
   * written. Reading a value may run the caller's code (getters, toJSON): the caller makes
   * sure such code cannot write this buffer meanwhile.
   */
  attributes(names, attributes, at) {
    let o = at;
    for (let k = 0; k < names.length; k++) {
      const name = names[k];
      // Every read of the caller's values (getters, toJSON) happens before this entry's writes.
      const v = isEnumerable.call(attributes, name) ? attributes[name] : undefined;
      const type = typeof v;
      let tag;
      let text;
      if (type === "string") {
        tag = STRING;
        text = v;
      } else if (type === "number") {
        tag = Number.isFinite(v) ? NUMBER : NULL;
      } else if (type === "boolean") {
        tag = v ? TRUE : FALSE;
      } else if (v === null) {
        tag = NULL;
      } else if (v === undefined || type === "function" || type === "symbol") {
        tag = MISSING;
      } else {
        // Lists and objects as their JSON text (JSON.stringify throws on a BigInt, as it did on
        // the whole attributes object); a toJSON giving undefined leaves the value out.
        text = JSON.stringify(v);
        tag = text === undefined ? MISSING : JSON_TEXT;
      }
      this.#reserve(o + 9);
      const p = this.#ptr + o;
      this.#bytes[p] = tag;
      if (tag === NUMBER) {
        this.#view.setFloat64(p + 1, v, true);
        o += 9;
      } else if (tag === STRING || tag === JSON_TEXT) {
        const n = this.#text(text, o + 5);
        this.#view.setUint32(this.#ptr + o + 1, n, true);
        o += 5 + n;
      } else {
        o += 1;
      }
    }
    return o - at;
  }
}
