import { StrictMode } from "react"
import { createRoot } from "react-dom/client"
import { SessionProvider } from "next-auth/react"
import App from "./App.jsx"
import "./app.css"

// SessionProvider loads the session from GET /api/auth/session, exactly as
// in a Next.js app. Nothing here knows that the server is Go.
createRoot(document.getElementById("root")).render(
  <StrictMode>
    <SessionProvider>
      <App />
    </SessionProvider>
  </StrictMode>,
)
