// next-app.mjs stands in for a Next.js app's API routes: a plain node:http
// server calling the unmodified next-auth 4 handler (NextAuth,
// getServerSession, next-auth/jwt's getToken) and Auth.js 5 (@auth/core's
// Auth and getToken), as a Next.js app would call them. Next.js itself is
// not needed for the token format, which is what authgate shares.
//
//   /api/auth/*        NextAuth v4 (credentials sign-in, session, csrf, …)
//   /api/authjs/*      Auth.js v5 (the same, basePath /api/authjs)
//   /api/node/session  getServerSession (v4)        → the session JSON
//   /api/node/token    next-auth/jwt getToken (v4)  → the decoded token
//   /api/node/token5   @auth/core/jwt getToken (v5) → the decoded token
//
// Environment: AUTH_SECRET (both versions), NEXTAUTH_URL (the public
// origin: the Go server that proxies these paths), PORT (0: any). It prints
// "listening <port>" once it accepts connections.
import { createServer } from "node:http";
import nextAuthModule, { getServerSession } from "next-auth";
import credentialsV4Module from "next-auth/providers/credentials";
import { getToken as getTokenV4 } from "next-auth/jwt";
import { Auth } from "@auth/core";
import CredentialsV5 from "@auth/core/providers/credentials";
import { getToken as getTokenV5 } from "@auth/core/jwt";

// next-auth 4 is CommonJS: its default exports sit under .default.
const NextAuth = nextAuthModule.default ?? nextAuthModule;
const CredentialsV4 = credentialsV4Module.default ?? credentialsV4Module;

const secret = process.env.AUTH_SECRET;
const origin = process.env.NEXTAUTH_URL;
if (!secret || !origin) {
  console.error("next-app: set AUTH_SECRET and NEXTAUTH_URL");
  process.exit(2);
}
process.env.NEXTAUTH_SECRET = secret;
const secure = origin.startsWith("https://");
const quiet = { error() {}, warn() {}, debug() {} };

// The demo's users: password "pw-<name>". A name starting with "big" gets
// a 6 KB claim, so its session cookie is chunked.
function authorize(c) {
  const name = String(c?.username ?? "");
  if (!name || c?.password !== `pw-${name}`) return null;
  return { id: `u-${name}`, name, email: `${name}@example.com`, role: name.includes("alice") ? "admin" : "user" };
}

// The jwt callback of a typical Next.js app (token.id and token.role, read
// back by the session callback), plus what sharing the session with
// authgate needs: a session id that survives NextAuth's re-encoding (sid;
// NextAuth replaces jti every time) and the sign-in time (auth_time;
// NextAuth moves iat every time). Without them authgate still works but
// must fail closed: see the README. The users whose name starts with
// "legacy" stand for an app that does not set them.
function jwt({ token, user }) {
  if (user) {
    token.id = user.id;
    token.role = user.role;
    token.plan = "pro";
    if (!user.name.startsWith("legacy")) {
      token.sid = crypto.randomUUID();
      token.auth_time = Math.floor(Date.now() / 1000);
    }
    if (user.name.startsWith("big")) token.bio = "x".repeat(6000);
  }
  return token;
}

function session({ session, token }) {
  session.user.id = token.id;
  session.user.role = token.role;
  session.plan = token.plan;
  return session;
}

const optionsV4 = {
  secret,
  providers: [CredentialsV4({ credentials: { username: {}, password: {} }, authorize })],
  session: { strategy: "jwt" },
  callbacks: { jwt, session },
  logger: quiet,
};

const configV5 = {
  secret,
  basePath: "/api/authjs",
  trustHost: true,
  providers: [CredentialsV5({ credentials: { username: {}, password: {} }, authorize })],
  session: { strategy: "jwt" },
  callbacks: { jwt, session },
  logger: quiet,
};

function parseCookies(header = "") {
  const out = {};
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString("utf8");
}

// nextApiShim gives a node:http request and response the parts of Next.js'
// API-route objects next-auth 4 uses.
function nextApiShim(req, res, url, body) {
  req.query = Object.fromEntries(url.searchParams);
  req.query.nextauth = url.pathname.replace(/^\/api\/auth\/?/, "").split("/").filter(Boolean);
  req.cookies = parseCookies(req.headers.cookie);
  const type = req.headers["content-type"] ?? "";
  req.body = type.includes("json") ? JSON.parse(body || "{}") : Object.fromEntries(new URLSearchParams(body));
  res.status = (code) => { res.statusCode = code; return res; };
  res.json = (v) => { res.setHeader("Content-Type", "application/json"); res.end(JSON.stringify(v)); return res; };
  res.send = (v) => (typeof v === "object" && v !== null ? res.json(v) : (res.end(v ?? ""), res));
}

function json(res, status, v) {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(v));
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, origin);
    const body = ["GET", "HEAD"].includes(req.method) ? "" : await readBody(req);
    if (url.pathname.startsWith("/api/auth/") || url.pathname === "/api/auth") {
      nextApiShim(req, res, url, body);
      return await NextAuth(req, res, optionsV4);
    }
    if (url.pathname.startsWith("/api/authjs")) {
      const request = new Request(url, { method: req.method, headers: req.headers, body: body || undefined });
      const response = await Auth(request, configV5);
      res.statusCode = response.status;
      for (const [k, v] of response.headers) if (k !== "set-cookie") res.setHeader(k, v);
      const cookies = response.headers.getSetCookie();
      if (cookies.length) res.setHeader("Set-Cookie", cookies);
      return res.end(Buffer.from(await response.arrayBuffer()));
    }
    if (url.pathname === "/api/node/session") {
      const r = { headers: req.headers, cookies: parseCookies(req.headers.cookie) };
      const s = await getServerSession(r, { getHeader() {}, setHeader() {}, setCookie() {} }, optionsV4);
      return json(res, s ? 200 : 401, s ?? {});
    }
    if (url.pathname === "/api/node/token") {
      const t = await getTokenV4({ req: { headers: req.headers, cookies: parseCookies(req.headers.cookie) }, secret, secureCookie: secure, logger: quiet });
      return json(res, t ? 200 : 401, t ?? {});
    }
    if (url.pathname === "/api/node/token5") {
      const t = await getTokenV5({ req: { headers: req.headers }, secret, secureCookie: secure, logger: quiet });
      return json(res, t ? 200 : 401, t ?? {});
    }
    json(res, 404, { error: "not found" });
  } catch (e) {
    console.error("next-app:", e);
    json(res, 500, { error: "internal" });
  }
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
