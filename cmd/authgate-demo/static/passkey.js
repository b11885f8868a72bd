// passkey.js wires the demo's passkey buttons to authgate's browser helper
// (GET /api/auth/passkey/client.js), which talks to the passkey extension
// as next-auth/webauthn's signIn("passkey") does.
//
//   #passkey-signin (login page)   signIn("passkey"): pick a passkey, no name typed
//   #add-passkey (dashboard, list) signIn("passkey", {action: "register"})
import { signIn } from "/api/auth/passkey/client.js"

const messages = {
  WebAuthnVerificationError: "That passkey could not be verified. Try again, or use your password.",
  SessionRequired: "Sign in first, then add a passkey.",
  FreshAuthRequired: "Sign in again to add a passkey: it needs a sign-in from the last 15 minutes.",
  TooManyAttempts: "Too many attempts. Wait a minute, then try again.",
  Busy: "The server is busy. Try again in a moment.",
  MissingCSRF: "The page expired. Reload it and try again.",
  AccessDenied: "This account may not sign in.",
}

function show(line, error) {
  line.textContent = messages[error] || "That did not work. Try again."
}

// A ceremony the user cancels (or no passkey) rejects with a WebAuthnError.
async function ceremony(line, run) {
  line.textContent = ""
  try {
    const res = await run()
    if (res && !res.ok) show(line, res.error)
    return res
  } catch (e) {
    line.textContent = "No passkey was used (" + (e.name || "error") + ")."
  }
}

const signInButton = document.getElementById("passkey-signin")
if (signInButton) {
  signInButton.addEventListener("click", async () => {
    const form = document.getElementById("login-form")
    const callbackUrl = form.elements.callbackUrl.value
    const res = await ceremony(document.getElementById("error"), () => signIn("passkey", { redirect: false, callbackUrl }))
    if (res && res.ok) window.location.assign(res.url)
  })
}

const addButton = document.getElementById("add-passkey")
if (addButton) {
  addButton.addEventListener("click", async () => {
    const line = document.getElementById("passkey-error")
    const name = navigator.platform ? "Passkey on " + navigator.platform : "Passkey"
    const res = await ceremony(line, () => signIn("passkey", { action: "register", name, redirect: false }))
    if (res && res.ok) window.location.assign("/passkeys?added=1")
  })
}
