// authgate's passkey helper: next-auth/webauthn's signIn("passkey") for
// apps whose front end cannot use Auth.js v5 (next-auth v4's
// next-auth/react has no passkeys), on @simplewebauthn/browser.
//
//   import { signIn } from "./passkey.js"
//   await signIn("passkey")                                 // sign in, then go to callbackUrl
//   await signIn("passkey", { action: "register", name: "Laptop" }) // add one (signed in)
//   const res = await signIn("passkey", { redirect: false }) // {error, status, ok, url}
//
// It talks to authgate's endpoints as next-auth/webauthn does: GET
// /providers, GET /webauthn-options/{id}, the browser ceremony, GET /csrf,
// POST /callback/{id} with X-Auth-Return-Redirect: 1. Option basePath
// (default "/api/auth") is the only one it keeps to itself; redirectTo or
// callbackUrl (default: this page) is where to go afterwards.
import { startAuthentication, startRegistration } from "@simplewebauthn/browser"

export async function signIn(provider = "passkey", options = {}, authorizationParams = {}) {
  const { basePath = "/api/auth", ...rest } = options
  const callbackUrl = rest.redirectTo ?? rest.callbackUrl ?? window.location.href
  const redirect = rest.redirect ?? true
  const fail = (error, status) => ({ error, status, ok: false, url: null })
  const getJSON = async (path) => (await fetch(basePath + path)).json()

  const providers = await getJSON("/providers")
  if (providers[provider]?.type !== "webauthn") return fail("Configuration", 400)

  const optionsRes = await fetch(`${basePath}/webauthn-options/${provider}?${new URLSearchParams(rest)}`)
  const { action, options: optionsJSON, error } = await optionsRes.json()
  if (!optionsRes.ok) return fail(error ?? "Default", optionsRes.status)
  const data =
    action === "register"
      ? await startRegistration({ optionsJSON })
      : await startAuthentication({ optionsJSON })

  const { csrfToken } = await getJSON("/csrf")
  const res = await fetch(`${basePath}/callback/${provider}?${new URLSearchParams(authorizationParams)}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Auth-Return-Redirect": "1" },
    body: new URLSearchParams({ ...rest, data: JSON.stringify(data), action, csrfToken, callbackUrl }),
  })
  const answer = await res.json()
  if (redirect && res.ok) {
    const url = answer.url ?? callbackUrl
    window.location.href = url
    if (url.includes("#")) window.location.reload()
    return
  }
  const code = answer.url ? new URL(answer.url).searchParams.get("error") : "Default"
  return { error: code, status: res.status, ok: res.ok && !code, url: code ? null : answer.url }
}
