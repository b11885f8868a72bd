// jwt.mjs runs the unmodified token code of next-auth 4 (next-auth/jwt) and
// Auth.js 5 (@auth/core/jwt) for the Go tests: one JSON request per line on
// stdin, one JSON answer per line on stdout.
//
//   {"lib":"v4"|"v5","op":"encode","token":{…},"secret":…,"salt":…,"maxAge":…} → {"token":"…"}
//   {"lib":…,"op":"decode","token":"…","secret":…,"salt":…}                     → {"payload":{…}} or {"error":"…"}
//   {"lib":…,"op":"getToken","cookies":{name:value,…},"authorization":"…","secret":…,"secureCookie":bool}
//                                                                                → {"payload":{…}|null}
//   {"lib":…,"op":"refresh","token":"…","secret":…,"salt":…,"maxAge":…}        → {"token":"…"} or {"error":"…"}
//
// refresh is what the session route (GET /api/auth/session) does to a
// session token on every call: decode it, run the jwt callback (here one
// that returns the token as it is, as an app's does after sign-in), and
// encode the result, which gets a fresh iat, exp and jti.
//
// For v5, secret may be a list (key rotation). Any request may carry
// "now" (Unix seconds): the packages then run with their clock (Date)
// set to that time, as a server whose clock reads it would.
import { createInterface } from "node:readline";
import * as v4 from "next-auth/jwt";
import * as v5 from "@auth/core/jwt";

const silent = { error() {}, warn() {}, debug() {} };

// at runs fn with Date reading `now` (Unix seconds) instead of the real
// time; requests are handled one at a time, so the swap is not shared.
const RealDate = Date;
async function at(now, fn) {
  if (now == null) return fn();
  const offset = now * 1000 - RealDate.now();
  globalThis.Date = class extends RealDate {
    constructor(...args) {
      super(...(args.length ? args : [RealDate.now() + offset]));
    }
    static now() {
      return RealDate.now() + offset;
    }
  };
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

async function handle(m) {
  const lib = m.lib === "v5" ? v5 : v4;
  switch (m.op) {
    case "encode":
      return { token: await lib.encode({ token: m.token, secret: m.secret, salt: m.salt, maxAge: m.maxAge }) };
    case "decode":
      try {
        return { payload: await lib.decode({ token: m.token, secret: m.secret, salt: m.salt }) };
      } catch (e) {
        return { error: String(e?.code ?? e?.name ?? e) };
      }
    case "refresh":
      try {
        const token = await lib.decode({ token: m.token, secret: m.secret, salt: m.salt });
        if (!token) return { error: "JWT invalid" };
        return { token: await lib.encode({ token, secret: m.secret, salt: m.salt, maxAge: m.maxAge }) };
      } catch (e) {
        return { error: String(e?.code ?? e?.name ?? e) };
      }
    case "getToken": {
      const headers = {};
      const cookie = Object.entries(m.cookies ?? {}).map(([k, v]) => `${k}=${v}`).join("; ");
      if (cookie) headers.cookie = cookie;
      if (m.authorization) headers.authorization = m.authorization;
      const req = { headers, cookies: m.cookies ?? {} };
      return { payload: await lib.getToken({ req, secret: m.secret, secureCookie: !!m.secureCookie, logger: silent }) };
    }
    default:
      return { error: `unknown op ${m.op}` };
  }
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  let out;
  try {
    const m = JSON.parse(line);
    out = await at(m.now, () => handle(m));
  } catch (e) {
    out = { error: String(e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
