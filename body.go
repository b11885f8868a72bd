package authgate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// errBodyTooLarge reports a body over [Config.MaxBodyBytes].
var errBodyTooLarge = errors.New("authgate: request body too large")

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
// be a single string: a repeated form field or JSON key, or a JSON value of
// another type (null included; "data" excepted), is refused, never silently
// picked. Errors wrap
// errBodyTooLarge, errUnsupportedMedia or errBadBody.
func readBody(w http.ResponseWriter, r *http.Request, max int64) (body, error) {
	var b body
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return b, errBodyTooLarge
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
		fields, data, err := parseJSONObject(raw)
		if err != nil {
			return b, fmt.Errorf("%w: %w", errBadBody, err)
		}
		b.fields, b.data = fields, data
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

// parseJSONObject reads a JSON object of string members, plus an optional
// "data" member of any JSON type. A repeated key, a null or non-string
// member, or anything after the object is refused. An empty body is an
// empty object.
func parseJSONObject(raw []byte) (map[string]string, json.RawMessage, error) {
	fields := map[string]string{}
	var data json.RawMessage
	if len(bytes.TrimSpace(raw)) == 0 {
		return fields, nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := t.(string)
		if seen[k] {
			return nil, nil, fmt.Errorf("member %q repeated", k)
		}
		seen[k] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if k == "data" {
			data = v
			continue
		}
		var str string
		if v[0] != '"' || json.Unmarshal(v, &str) != nil {
			return nil, nil, fmt.Errorf("member %q is not a string", k)
		}
		fields[k] = str
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("data after the JSON object")
	}
	return fields, data, nil
}
