// email.js submits the e-mail form the way next-auth/react's
// signIn("email", {email, redirect: false}) does: a fresh CSRF token, POST
// with json=true, then {url} from the answer. "E-mail me a link" posts to
// /api/auth/signin/email, "Forgot password?" to /api/auth/forgot-password;
// both answer the same for every address. Without JavaScript the form
// posts and lands on authgate's "check your e-mail" page.
"use strict"
;(function () {
  const form = document.getElementById("email-form")
  const status = document.getElementById("email-status")
  const messages = {
    EmailSignin: "That is not an e-mail address a link can be sent to.",
    TooManyAttempts: "Too many e-mails asked for. Wait a few minutes, then try again.",
    Busy: "The server is busy. Try again in a moment.",
    MissingCSRF: "The form expired. Reload the page and try again.",
  }
  form.addEventListener("submit", async function (event) {
    event.preventDefault()
    const action = (event.submitter && event.submitter.formAction) || form.action
    const reset = action.endsWith("/forgot-password")
    status.hidden = false
    status.textContent = "Sending…"
    try {
      const csrf = await (await fetch(form.dataset.csrfUrl)).json()
      const body = new URLSearchParams(new FormData(form))
      body.set("csrfToken", csrf.csrfToken)
      body.set("json", "true")
      const res = await fetch(action, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body,
      })
      const data = await res.json()
      const error = data.url ? new URL(data.url).searchParams.get("error") : "Default"
      if (res.ok && !error) {
        status.textContent = reset
          ? "If an account uses this address, a link to choose a new password is on its way. It works once, for 10 minutes."
          : "Check your e-mail: a sign-in link is on its way. It works once, for 10 minutes."
        return
      }
      status.textContent = messages[error] || "Could not send the e-mail. Try again."
    } catch (e) {
      status.textContent = "Could not reach the server. Try again."
    }
  })
})()
