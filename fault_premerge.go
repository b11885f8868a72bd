package authgate

import "errors"

// isFault reports whether err is a store or callback fault rather than a
// verdict on the cookie. (Replaced by the fault issue's definition when
// it is merged.)
func isFault(err error) bool { return errors.Is(err, ErrStore) || errors.Is(err, ErrCallback) }
