import { useEffect, useState } from "react"
import { getProviders, signIn } from "next-auth/react"

// "E-mail me a link", as in any next-auth v4 app: signIn("email") posts
// the address to /api/auth/signin/email and, with redirect:false, resolves
// to {ok, error, url} — url is NextAuth's verify-request page. The link in
// the mail, opened in the browser, signs in after one click (the demo runs
// with -smtp, or writes the link to its log in local mode). Shown when the
// server lists the provider "email" in GET /api/auth/providers.
export default function EmailSignIn() {
  const [offered, setOffered] = useState(false)
  const [result, setResult] = useState(null)
  useEffect(() => {
    getProviders().then((all) => setOffered(Boolean(all?.email)))
  }, [])
  if (!offered) return null

  async function onSubmit(event) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    setResult(await signIn("email", { email: form.get("email"), redirect: false, callbackUrl: "/" }))
  }

  return (
    <form className="card" onSubmit={onSubmit}>
      <label>
        E-mail <input id="email" name="email" type="email" autoComplete="email" required />
      </label>
      <button id="signin-email" type="submit">
        E-mail me a link
      </button>
      <pre id="email-result">{result ? JSON.stringify(result) : "-"}</pre>
    </form>
  )
}
