package authgate_test

import "testing"

// testingTB is embedded by exampleT; only Helper and Fatalf are called.
type testingTB = testing.TB

func (exampleT) Helper()                        {}
func (exampleT) Fatalf(format string, a ...any) { panic(format) }
