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

// bodyError is a request body authgate refuses. Its message is written to
// the client, so it names what was wrong (a field, a type) but never
// repeats a value; field names in it are clipped.
type bodyError struct {
	status int // 400, 413 or 415
	msg    string
	err    error // the parser's error, for the log; may be nil
}

func (e *bodyError) Error() string {
	if e.err != nil {
		return "authgate: request body: " + e.msg + ": " + e.err.Error()
	}
	return "authgate: request body: " + e.msg
}

func (e *bodyError) Unwrap() error { return e.err }

func badBody(format string, args ...any) *bodyError {
	return &bodyError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// protocolFlags are the protocol fields a JSON client may send as a
// boolean or a number as well as a string.
var protocolFlags = map[string]bool{"json": true, "redirect": true}

// body is a parsed POST body: string fields, plus the raw "data" member of
// a JSON body (the payload of update(data)).
type body struct {
	fields map[string]string
	data   json.RawMessage
}

// readBody reads at most max bytes of r's body as
// application/x-www-form-urlencoded or application/json. Every field must
// be a single string (the protocol's flags "json" and "redirect" may also
// be JSON booleans or numbers): a repeated form field or JSON key, or a
// JSON value of another type (null included; "data" excepted), is refused,
// never silently picked. Its errors are *bodyError.
func readBody(w http.ResponseWriter, r *http.Request, max int64) (body, *bodyError) {
	var b body
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return b, &bodyError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("the body is over %d bytes", max)}
		}
		return b, &bodyError{status: http.StatusBadRequest, msg: "the body could not be read", err: err}
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			e := badBody("the body is not valid form encoding")
			e.err = err
			return b, e
		}
		b.fields = make(map[string]string, len(vals))
		for k, v := range vals {
			if len(v) != 1 {
				return b, badBody("field %q appears more than once", clip(k))
			}
			b.fields[k] = v[0]
		}
	case "application/json":
		fields, data, err := parseJSONObject(raw)
		if err != nil {
			return b, err
		}
		b.fields, b.data = fields, data
	case "":
		if len(raw) != 0 {
			return b, errUnsupportedMedia()
		}
		b.fields = map[string]string{}
	default:
		return b, errUnsupportedMedia()
	}
	return b, nil
}

func errUnsupportedMedia() *bodyError {
	return &bodyError{status: http.StatusUnsupportedMediaType,
		msg: "Content-Type must be application/x-www-form-urlencoded or application/json"}
}

// parseJSONObject reads a JSON object of string members (the protocol
// flags may also be booleans or numbers), plus an optional "data" member
// of any JSON type. A repeated key, a null or other non-string member, or
// anything after the object is refused. An empty body is an empty object.
func parseJSONObject(raw []byte) (map[string]string, json.RawMessage, *bodyError) {
	fields := map[string]string{}
	var data json.RawMessage
	if len(bytes.TrimSpace(raw)) == 0 {
		return fields, nil, nil
	}
	invalid := func(err error) *bodyError {
		e := badBody("the body is not valid JSON")
		e.err = err
		return e
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, badBody("the body is not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, invalid(err)
		}
		k, _ := t.(string)
		if seen[k] {
			return nil, nil, badBody("member %q appears more than once", clip(k))
		}
		seen[k] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, invalid(err)
		}
		if k == "data" {
			data = v
			continue
		}
		switch {
		case v[0] == '"':
			var str string
			if err := json.Unmarshal(v, &str); err != nil {
				return nil, nil, invalid(err)
			}
			fields[k] = str
		case protocolFlags[k] && (string(v) == "true" || string(v) == "false"):
			fields[k] = string(v)
		case protocolFlags[k] && (v[0] == '-' || v[0] >= '0' && v[0] <= '9'):
			fields[k] = flagFromNumber(v)
		case protocolFlags[k]:
			return nil, nil, badBody("member %q must be a string, a boolean or a number", k)
		default:
			return nil, nil, badBody("member %q must be a string", clip(k))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, invalid(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, badBody("the body has data after the JSON object")
	}
	return fields, data, nil
}

// flagFromNumber maps a JSON number to a flag: 0 is "false", any other
// number "true".
func flagFromNumber(v json.RawMessage) string {
	var f float64
	if json.Unmarshal(v, &f) == nil && f == 0 {
		return "false"
	}
	return "true"
}
