package authgate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// errBadBody reports a body authgate cannot read as form or JSON fields.
var errBadBody = errors.New("authgate: malformed request body")

// errUnsupportedMedia reports a body that is neither form nor JSON.
var errUnsupportedMedia = errors.New("authgate: unsupported content type")

// body is a parsed POST body: string fields, plus the raw "data" member of
// a JSON body (the payload of update(data)).
type body struct {
	fields map[string]string
	data   json.RawMessage
}

// readBody reads at most max bytes of r's body as
// application/x-www-form-urlencoded or application/json. Every field must
// be a single string: a repeated form field or a JSON value of another type
// (except "data") is refused, never silently picked. Errors wrap
// ErrBodyTooLarge, errUnsupportedMedia or errBadBody.
func readBody(w http.ResponseWriter, r *http.Request, max int64) (body, error) {
	var b body
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return b, ErrBodyTooLarge
		}
		return b, fmt.Errorf("%w: %w", errBadBody, err)
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return b, fmt.Errorf("%w: %w", errBadBody, err)
		}
		b.fields = make(map[string]string, len(vals))
		for k, v := range vals {
			if len(v) != 1 {
				return b, fmt.Errorf("%w: field %q repeated", errBadBody, k)
			}
			b.fields[k] = v[0]
		}
	case "application/json":
		var obj map[string]json.RawMessage
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &obj); err != nil {
				return b, fmt.Errorf("%w: %w", errBadBody, err)
			}
		}
		b.fields = make(map[string]string, len(obj))
		for k, v := range obj {
			if k == "data" {
				b.data = v
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return b, fmt.Errorf("%w: field %q is not a string", errBadBody, k)
			}
			b.fields[k] = s
		}
	case "":
		if len(raw) != 0 {
			return b, errUnsupportedMedia
		}
		b.fields = map[string]string{}
	default:
		return b, errUnsupportedMedia
	}
	return b, nil
}
