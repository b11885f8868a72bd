package bench

import "time"

// Authgate returns authgate's variants (added once the core compiles).
func Authgate(now time.Time) ([]Variant, error) { return nil, nil }
