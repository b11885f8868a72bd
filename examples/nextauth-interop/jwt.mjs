// jwt.mjs runs the unmodified token code of next-auth 4 (next-auth/jwt) and
// Auth.js 5 (@auth/core/jwt) for the Go tests: one JSON request per line on
// stdin, one JSON answer per line on stdout.
//
//   {"lib":"v4"|"v5","op":"encode","token":{…},"secret":…,"salt":…,"maxAge":…} → {"token":"…"}
//   {"lib":…,"op":"decode","token":"…","secret":…,"salt":…}                     → {"payload":{…}} or {"error":"…"}
//   {"lib":…,"op":"getToken","cookies":{name:value,…},"authorization":"…","secret":…,"secureCookie":bool}
//                                                                                → {"payload":{…}|null}
// For v5, secret may be a list (key rotation).
import { createInterface } from "node:readline";
import * as v4 from "next-auth/jwt";
import * as v5 from "@auth/core/jwt";

const silent = { error() {}, warn() {}, debug() {} };

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
    out = await handle(JSON.parse(line));
  } catch (e) {
    out = { error: String(e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
