// Shared by the package's entry points: the error type, and calls into a WebAssembly module
// that start a fresh instance after a trap.

/** An error thrown by Litmus: `code` is stable (docs/errors.md), `path` names a config field. */
export class LitmusError extends Error {
  constructor(message, code, path) {
    super(message);
    this.name = "LitmusError";
    this.code = code;
    this.path = path ?? null;
  }
}

export function toError(e) {
  if (typeof e === "string") {
    let d;
    try {
      d = JSON.parse(e);
    } catch {
      return new LitmusError(e, "internal");
    }
    const error = new LitmusError(d.message, d.code, d.path);
    // A "multiple" error (strict validation found several problems) lists each one.
    if (Array.isArray(d.problems)) error.problems = d.problems.map((p) => new LitmusError(p.message, p.code, p.path));
    return error;
  }
  if (e instanceof WebAssembly.RuntimeError) {
    return new LitmusError(`internal error in litmus (please report it; the WebAssembly instance was restarted): ${e.message}`, "internal");
  }
  return e;
}

/**
 * Calls into the wasm-bindgen module `b`. A trap (a panic in Rust, which the core never
 * raises on any input, or an exhausted memory) leaves the instance unusable: the guard starts
 * a fresh one and bumps `epoch`, so objects made in the old instance can rebuild themselves,
 * and throws a LitmusError with code "internal".
 */
export function guard(b) {
  const g = {
    epoch: 0,
    call(f) {
      try {
        return f();
      } catch (e) {
        throw g.failed(e);
      }
    },
    /** What to throw for `e`, caught around a call (a trap restarts the instance first). */
    failed(e) {
      if (e instanceof WebAssembly.RuntimeError) {
        b.__wbg_reset_state();
        g.epoch++;
      }
      return toError(e);
    },
  };
  return g;
}


/** Calls a user callback; a throwing one never stops the client or tracker (rethrown in a microtask). */
export function notify(callback, value) {
  if (callback === undefined) return;
  try {
    callback(value);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

/** A LitmusError for anything thrown where none was expected (code "internal"). */
export const asLitmusError = (e) => (e instanceof LitmusError ? e : new LitmusError(String(e?.message ?? e), "internal"));

/** The error of a machine's report (`{ kind, code, message, status, dropped, rejected }`). */
export function reportError(report) {
  const error = new LitmusError(report.message, report.code);
  if (report.status !== null && report.status !== undefined) error.status = report.status;
  error.dropped = report.dropped ?? 0;
  if (report.kind === "events_rejected") {
    error.rejected = report.rejected.map((r) => ({ index: r.index, code: r.code, path: r.path, message: r.message, event: JSON.parse(r.event) }));
  }
  return error;
}


/** A positive number of milliseconds (at most 1e12), or an `invalid_argument` error. */
export function positive(name, value) {
  if (typeof value !== "number" || !(value > 0) || value > 1e12) {
    throw new LitmusError(`${name} must be a positive number of milliseconds (at most 1e12), not ${String(value)}`, "invalid_argument");
  }
  return value;
}

/** A function or undefined, or an `invalid_argument` error. */
export function optionalFunction(name, value) {
  if (value !== undefined && typeof value !== "function") throw new LitmusError(`${name} must be a function`, "invalid_argument");
  return value;
}

/** A random seed for the jitter. */
export function seed() {
  const c = globalThis.crypto;
  if (typeof c?.getRandomValues === "function") return c.getRandomValues(new Uint32Array(1))[0] * 2 ** 21;
  return Math.floor(Math.random() * 2 ** 53);
}
