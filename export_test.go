package authgate

// HashQueueLen reports how many sign-ins wait for a password check, so the
// black-box tests can wait for a queue without timing it. It exists only
// in the test binary.
func HashQueueLen[T any](a *Auth[T]) int { return a.checker.queueLen() }

// WaitTouches waits until the last-seen writes in flight are done, so the
// black-box tests can read what they wrote without sleeping.
func WaitTouches[T any](a *Auth[T]) {
	if a.store != nil {
		a.store.wg.Wait()
	}
}
