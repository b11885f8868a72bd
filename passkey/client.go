package passkey

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"time"
)

// The browser helper (client/passkey.js) and the copy of
// @simplewebauthn/browser's UMD bundle it uses
// (client/simplewebauthn-browser.umd.min.js, byte for byte the npm
// package's dist/bundle/index.umd.min.js at the version
// examples/passkey-browser/package-lock.json pins; a test compares them).
//
//go:embed client/passkey.js client/simplewebauthn-browser.umd.min.js
var clientFS embed.FS

// libraryExport makes the UMD bundle an ES module: loaded as a module it
// sets globalThis.SimpleWebAuthnBrowser, and this line exports what the
// helper imports from it.
const libraryExport = "\nexport const { startAuthentication, startRegistration } = globalThis.SimpleWebAuthnBrowser;\n"

// clientFiles are the two scripts as served: the helper with its import
// pointed at the library beside it, and the library as an ES module.
type clientFiles struct {
	helper, library []byte
	helperTag       string
	libraryTag      string
}

func newClientFiles() clientFiles {
	helper, _ := clientFS.ReadFile("client/passkey.js")
	lib, _ := clientFS.ReadFile("client/simplewebauthn-browser.umd.min.js")
	helper = bytes.Replace(helper, []byte(`from "@simplewebauthn/browser"`), []byte(`from "./simplewebauthn-browser.js"`), 1)
	lib = append(lib, libraryExport...)
	return clientFiles{helper: helper, library: lib, helperTag: etag(helper), libraryTag: etag(lib)}
}

func etag(b []byte) string {
	h := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(h[:12]) + `"`
}

// serveHelper is GET /{id}/client.js.
func (c clientFiles) serveHelper(w http.ResponseWriter, r *http.Request) {
	serveScript(w, r, c.helper, c.helperTag)
}

// serveLibrary is GET /{id}/simplewebauthn-browser.js.
func (c clientFiles) serveLibrary(w http.ResponseWriter, r *http.Request) {
	serveScript(w, r, c.library, c.libraryTag)
}

// serveScript serves a script with its ETag; browsers revalidate it.
func serveScript(w http.ResponseWriter, r *http.Request, b []byte, tag string) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", tag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}
