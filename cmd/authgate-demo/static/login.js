// login.js submits the sign-in form the way next-auth/react's
// signIn("credentials", {redirect: false}) does: fetch a CSRF token, POST
// the form with json=true, and read {url} from the answer. Success goes to
// that url (the validated callbackUrl); failure shows the error code's
// message. Without JavaScript the form still works as a plain POST.
"use strict"
;(function () {
  const form = document.getElementById("login-form")
  const errorLine = document.getElementById("error")
  const button = document.getElementById("submit")
  const messages = {
    CredentialsSignin: "Wrong username or password.",
    TwoFactorRequired: "Enter the code from your authenticator app, or a recovery code.",
    TwoFactorExpired: "That took too long. Sign in again.",
    WrongCode: "That code is not right (or was used already). Try the current one.",
    TooManyAttempts: "Too many attempts. Wait a minute, then try again.",
    Busy: "The server is busy. Try again in a moment.",
    MissingCSRF: "The form expired. Reload the page and try again.",
    AccessDenied: "This account may not sign in.",
    OAuthSignin: "Could not start the sign-in with that provider. Try again.",
  }

  // "Sign in with …" buttons, as next-auth/react's signIn("github") does
  // it: a fresh CSRF token, POST /api/auth/signin/{id} with json=true, then
  // off to the {url} answered (the provider's authorization page). Without
  // JavaScript the form posts and authgate redirects.
  document.querySelectorAll(".oauth-form").forEach(function (oauthForm) {
    oauthForm.addEventListener("submit", async function (event) {
      event.preventDefault()
      errorLine.textContent = ""
      try {
        const csrf = await (await fetch(oauthForm.dataset.csrfUrl)).json()
        const body = new URLSearchParams(new FormData(oauthForm))
        body.set("csrfToken", csrf.csrfToken)
        body.set("json", "true")
        const res = await fetch(oauthForm.action, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: body,
        })
        const data = await res.json()
        if (res.ok && data.url) {
          window.location.assign(data.url)
          return
        }
        const error = data.url ? new URL(data.url).searchParams.get("error") : "Default"
        errorLine.textContent = messages[error] || "Sign-in failed. Try again."
      } catch (e) {
        errorLine.textContent = "Could not reach the server. Try again."
      }
    })
  })

  // The second step (totp.go): after a right password the server answers
  // TwoFactorRequired and the form asks for the code instead; a disabled
  // fieldset's inputs are not sent, so the password is sent once.
  const passwordFields = document.getElementById("password-fields")
  const stepFields = document.getElementById("step-fields")
  function showStep(step) {
    passwordFields.hidden = passwordFields.disabled = step
    stepFields.hidden = stepFields.disabled = !step
    document.getElementById(step ? "code" : "password").focus()
    if (!step) document.getElementById("password").value = ""
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault()
    errorLine.textContent = ""
    button.disabled = true
    try {
      const csrf = await (await fetch(form.dataset.csrfUrl)).json()
      const body = new URLSearchParams(new FormData(form))
      body.set("csrfToken", csrf.csrfToken)
      body.set("json", "true")
      const res = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body,
      })
      const data = await res.json()
      let error = data.url ? new URL(data.url).searchParams.get("error") : "Default"
      if (res.ok && !error) {
        window.location.assign(data.url)
        return
      }
      if (error === "TwoFactorRequired" || error === "TwoFactorExpired") {
        showStep(error === "TwoFactorRequired")
      } else if (!stepFields.disabled && error === "CredentialsSignin") {
        error = "WrongCode"
      }
      errorLine.textContent = messages[error] || "Sign-in failed. Try again."
    } catch (e) {
      errorLine.textContent = "Could not reach the server. Try again."
    } finally {
      button.disabled = false
    }
  })
})()
