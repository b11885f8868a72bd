import { defineConfig } from "vite"

export default defineConfig({
  // JSX with React 17+'s automatic runtime (no plugin needed).
  esbuild: { jsx: "automatic" },
  // next-auth/react reads process.env.NEXTAUTH_URL (and a few more) when it
  // loads; browsers have no `process`, and `vite dev` would otherwise fail
  // with "process is not defined". With {} the client uses /api/auth.
  define: { "process.env": "{}" },
  server: {
    // `npm run dev`: the client must be same-origin with the Go server (it
    // fetches with credentials "same-origin"), so Vite forwards /api to the
    // demo. Start the demo with AUTH_URL=http://localhost:5173.
    proxy: { "/api": "http://127.0.0.1:3000" },
  },
})
