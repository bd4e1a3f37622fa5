// The wire side of the event tracker (tracker.mjs): the limits of the server's POST /events,
// the JSON text of events and bodies (RFC 3339 timestamps, message ids, UTF-8 sizes), gzip,
// and the reading of answers (Retry-After, error bodies). build-package.sh derives the
// CommonJS copy.

import { LitmusError } from "./common.mjs";

// The server's limits (litmus_core::events): events per request, uncompressed bytes per
// request, bytes per event as JSON.
export const MAX_EVENTS = 2_500;
export const MAX_BODY_BYTES = 1 << 20;
export const MAX_EVENT_BYTES = 32 * 1024;
// Browsers refuse keep-alive requests whose bodies add up to more than 64 KiB.
export const KEEPALIVE_BYTES = 64 * 1024;
// A longer Retry-After is read as an hour (as in the Python tracker).
const MAX_RETRY_AFTER_MS = 3_600_000;
// Bodies over this many bytes are gzipped (where CompressionStream exists).
export const GZIP_OVER = 1024;
// The body without its events: {"sent_at":"2026-01-01T00:00:00.000Z","events":[]}.
export const ENVELOPE_BYTES = `{"sent_at":"${new Date(0).toISOString()}","events":[]}`.length;
// The instants toISOString writes as RFC 3339 (years 0000 to 9999).
const FIRST_MS = -62_167_219_200_000;
const LAST_MS = 253_402_300_799_999;

let lastMs = NaN;
let lastIso = "";

/** RFC 3339 UTC with milliseconds for a Date, milliseconds or a date string (now by default). */
export function instant(value) {
  const ms = value === undefined || value === null ? Date.now()
    : value instanceof Date ? value.getTime()
      : typeof value === "number" ? value
        : typeof value === "string" ? Date.parse(value) : NaN;
  if (!(ms >= FIRST_MS && ms <= LAST_MS)) {
    throw new LitmusError(`timestamp must be a Date, milliseconds or a date string, not ${String(value)}`, "invalid_argument");
  }
  // Events tracked in a burst share their millisecond: toISOString once for them.
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** A random (version 4) UUID; without randomUUID (a browser page on plain http) from getRandomValues. */
export function uuid() {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === "function") return c.randomUUID();
  const b = new Uint8Array(16);
  if (typeof c?.getRandomValues === "function") c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The UTF-8 length of JSON text (JSON.stringify escapes lone surrogates, so pairs are whole). */
function utf8Length(s) {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c < 0x800 ? 1 : c >= 0xd800 && c < 0xdc00 ? (i++, 2) : 2;
  }
  return n;
}

/**
 * The JSON text of an event and its size in UTF-8 bytes: `invalid_argument` when it cannot be
 * written as JSON, `event_too_large` over MAX_EVENT_BYTES.
 */
export function encode(event) {
  let json;
  try {
    json = JSON.stringify(event);
  } catch (error) {
    throw new LitmusError(`the event cannot be written as JSON: ${error?.message ?? error}`, "invalid_argument");
  }
  const bytes = utf8Length(json);
  if (bytes > MAX_EVENT_BYTES) {
    throw new LitmusError(`the event is ${bytes} bytes as JSON; the limit is ${MAX_EVENT_BYTES}`, "event_too_large");
  }
  return { json, bytes };
}

/** The body of a request for encoded events (`{ json, bytes }`): its text and size, sent now. */
export function body(events) {
  let bytes = ENVELOPE_BYTES + events.length - 1;
  for (const e of events) bytes += e.bytes;
  return { text: `{"sent_at":"${new Date().toISOString()}","events":[${events.map((e) => e.json).join(",")}]}`, bytes };
}

/** `text` gzipped (CompressionStream: browsers, Node 18 and later). */
export function gzip(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Response(stream).arrayBuffer().then((b) => new Uint8Array(b));
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds, or 0; at most an hour. */
export function retryAfterMs(value) {
  if (value === null || value === undefined) return 0;
  const s = value.trim();
  const t = /^[0-9]+$/.test(s) ? Number(s) * 1000 : Date.parse(s) - Date.now();
  return Number.isFinite(t) ? Math.min(Math.max(0, t), MAX_RETRY_AFTER_MS) : 0;
}

/** The error of a non-2xx answer: 401 `unauthorized`, 403 `forbidden`, else the server's code or `http_error`. */
export function httpError(status, body, url) {
  let error = null;
  try {
    error = JSON.parse(body)?.error ?? null;
  } catch {
    // Not JSON: the status says enough.
  }
  const detail = typeof error?.message === "string" ? `: ${error.message}` : "";
  if (status === 401) return new LitmusError(`${url} answered 401 (check the SDK key)${detail}`, "unauthorized");
  if (status === 403) return new LitmusError(`${url} answered 403 (the key may not send events)${detail}`, "forbidden");
  const code = typeof error?.code === "string" && error.code !== "" ? error.code : "http_error";
  return new LitmusError(`${url} answered ${status}${detail}`, code);
}
