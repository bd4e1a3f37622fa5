// Webhook signatures of litmus-experiments (docs/webhooks.md), over the analysis module's
// wasm-bindgen exports: verifyWebhook for receivers, signWebhook for their tests. The scheme is
// the Rust core's (litmus_core::webhooks). Written once as ESM; build-package.sh derives the
// CommonJS copy.

import { LitmusError } from "./common.mjs";

const MAX_I64 = 2n ** 63n - 1n;
const encoder = new TextEncoder();

/** How far (in seconds, either way) a delivery's timestamp may be from now by default. */
export const DEFAULT_TOLERANCE = 300;

const invalid = (message) => new LitmusError(message, "invalid_argument");

/** The raw body as bytes: a Uint8Array (a Buffer is one) as it is, other views and
 * ArrayBuffers over their bytes, a string as its UTF-8 bytes. */
function bytesOf(body) {
  if (body instanceof Uint8Array) return body;
  if (typeof body === "string") return encoder.encode(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw invalid(`body must be the raw request body (a Uint8Array, Buffer, ArrayBuffer or string), not ${body === null ? "null" : typeof body}`);
}

/** A whole number of seconds as a BigInt for the wasm i64 (never wrapped modulo 2^64). */
function seconds(name, value) {
  let v = null;
  if (typeof value === "bigint") v = value;
  else if (Number.isSafeInteger(value)) v = BigInt(value);
  if (v === null || v > MAX_I64 || v < -MAX_I64 - 1n) {
    throw invalid(`${name} must be a whole number of seconds (a safe integer or a BigInt), not ${typeof value === "number" ? value : typeof value}`);
  }
  return v;
}

function text(name, value) {
  if (typeof value !== "string") throw invalid(`${name} must be a string, not ${value === null ? "null" : typeof value}`);
  return value;
}

/** Builds signWebhook and verifyWebhook over the analysis module `b`, calling through `call`
 * (the guard that restarts the instance after a trap). */
export function makeWebhooks(b, call) {
  /**
   * The `Litmus-Signature` value for `body` signed with `secret` at `timestamp` (unix
   * seconds): `t=<timestamp>,v1=<hex>`. Throws a LitmusError `invalid_argument` for an empty
   * secret or a negative timestamp.
   */
  function signWebhook(secret, body, timestamp) {
    const s = text("secret", secret);
    const bytes = bytesOf(body);
    const t = seconds("timestamp", timestamp);
    return call(() => b.webhookSign(s, bytes, t));
  }

  /**
   * Verifies a webhook delivery and returns its signed timestamp (unix seconds). `header` is
   * the request's `Litmus-Signature` value (undefined or null when absent), `body` the raw
   * body exactly as received. Options: `now` (unix seconds; default: the system clock) and
   * `tolerance` (seconds either way, default 300). Throws a LitmusError whose `code` is
   * `signature_missing`, `signature_malformed`, `signature_expired`, `signature_mismatch`, or
   * `invalid_argument` (an empty secret, a negative tolerance).
   */
  function verifyWebhook(secret, header, body, options = {}) {
    if (options === null || typeof options !== "object") throw invalid("options must be an object ({ now, tolerance })");
    const s = text("secret", secret);
    const h = header === undefined || header === null ? "" : text("header", header);
    const bytes = bytesOf(body);
    const now = seconds("now", options.now ?? Math.floor(Date.now() / 1000));
    const tolerance = seconds("tolerance", options.tolerance ?? DEFAULT_TOLERANCE);
    return Number(call(() => b.webhookVerify(s, h, bytes, now, tolerance)));
  }

  return { signWebhook, verifyWebhook };
}
