import { useEffect, useState } from "react"
import { getProviders, signIn, signOut, useSession } from "next-auth/react"
import EmailSignIn from "./EmailSignIn.jsx"

// The seed's custom sign-in form, written as in any next-auth v4 app: the
// unmodified next-auth/react client talks to the authgate demo (Go), which
// serves this page from the same origin.
export default function App() {
  const { data: session, status, update } = useSession()
  const [signInResult, setSignInResult] = useState(null)
  const [updateResult, setUpdateResult] = useState(null)
  const [signOutResult, setSignOutResult] = useState(null)
  // GET /api/auth/providers: one "Sign in with …" button per OAuth
  // provider the server is configured with (none by default).
  const [oauthProviders, setOAuthProviders] = useState([])
  useEffect(() => {
    getProviders().then((all) => setOAuthProviders(Object.values(all ?? {}).filter((p) => p.type === "oauth")))
  }, [])

  // A user with a second factor signs in in two steps: the password
  // resolves to error "TwoFactorRequired", then the code (or a recovery
  // code) goes through the same signIn("credentials", …).
  const [step, setStep] = useState(false)

  async function onSubmit(event) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    // redirect:false → resolves to {error, status, ok, url} instead of
    // navigating; a wrong password gives ok:false, error:"CredentialsSignin".
    const fields = step
      ? form.get("recoveryCode") ? { recoveryCode: form.get("recoveryCode") } : { code: form.get("code") }
      : { username: form.get("username"), password: form.get("password") }
    const result = await signIn("credentials", { ...fields, redirect: false })
    setSignInResult(result)
    if (result?.error === "TwoFactorRequired") setStep(true)
    if (result?.ok || result?.error === "TwoFactorExpired") setStep(false)
  }

  async function onUpdate() {
    // POST /api/auth/session: the server's jwt callback runs with
    // trigger "update" and this data; the demo copies the note (and only
    // the note: never a role) into the session.
    setUpdateResult(await update({ note: "hello from update()" }))
  }

  async function onSignOut() {
    setSignOutResult(await signOut({ redirect: false }))
    setSignInResult(null)
    setUpdateResult(null)
  }

  return (
    <main>
      <h1>next-auth/react + authgate</h1>
      <p>
        useSession() status: <strong id="status">{status}</strong>
      </p>

      {session ? (
        <section className="card">
          <p>
            Signed in as <strong id="name">{session.user?.name}</strong>, role{" "}
            <strong id="role">{session.user?.role}</strong>
          </p>
          <p>
            Last update(): trigger <strong id="update-trigger">{session.claims?.updateTrigger ?? "none"}</strong>,
            note <strong id="update-note">{session.claims?.note ?? "none"}</strong>
          </p>
          <button id="update" onClick={onUpdate}>
            Call update()
          </button>{" "}
          <button id="signout" onClick={onSignOut}>
            Sign out
          </button>
        </section>
      ) : (
        <form className="card" onSubmit={onSubmit}>
          {step ? (
            <>
              <label>
                Code from your authenticator app{" "}
                <input id="code" name="code" inputMode="numeric" autoComplete="one-time-code" />
              </label>
              <label>
                Or a recovery code <input id="recovery-code" name="recoveryCode" autoComplete="off" />
              </label>
            </>
          ) : (
            <>
              <label>
                Username <input id="username" name="username" autoComplete="username" required />
              </label>
              <label>
                Password{" "}
                <input id="password" name="password" type="password" autoComplete="current-password" required />
              </label>
            </>
          )}
          <button id="signin" type="submit">
            Sign in
          </button>
          {oauthProviders.map((p) => (
            // signIn("oidc") posts to /api/auth/signin/oidc and follows the
            // {url} answered: the provider's page, then back here.
            <button key={p.id} id={"signin-" + p.id} type="button" onClick={() => signIn(p.id, { callbackUrl: "/" })}>
              Sign in with {p.name}
            </button>
          ))}
        </form>
      )}
      {!session && <EmailSignIn />}

      <h2>Results</h2>
      <p>signIn(): </p>
      <pre id="signin-result">{signInResult ? JSON.stringify(signInResult) : "-"}</pre>
      <p>update(): </p>
      <pre id="update-result">{updateResult ? JSON.stringify(updateResult) : "-"}</pre>
      <p>signOut(): </p>
      <pre id="signout-result">{signOutResult ? JSON.stringify(signOutResult) : "-"}</pre>
      <p>useSession().data:</p>
      <pre id="session">{JSON.stringify(session, null, 2)}</pre>
    </main>
  )
}
