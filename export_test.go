package authgate

// HashQueueLen reports how many sign-ins wait for a password check, so the
// black-box tests can wait for a queue without timing it. It exists only
// in the test binary.
func HashQueueLen[T any](a *Auth[T]) int { return a.checker.queueLen() }
